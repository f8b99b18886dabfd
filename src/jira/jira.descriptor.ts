import type { ConnectDescriptorInput } from 'atlassian-connect-nest';

/** The Jira app's descriptor; the framework adds key, baseUrl, authentication, lifecycle and apiMigrations. */
export const jiraDescriptor: ConnectDescriptorInput = {
  name: 'Connect Nest Example for Jira',
  description: 'Shows atlassian-connect-nest serving Jira and Confluence from one process.',
  vendor: { name: 'atlassian-connect-nest', url: 'https://github.com/atlassian-connect-nest' },
  apiVersion: 1,
  scopes: ['READ', 'ACT_AS_USER'],
  enableLicensing: false,
  modules: {
    generalPages: [{ key: 'hello-page', name: { value: 'Hello from Nest' }, url: '/pages/hello', location: 'system.top.navigation.bar' }],
  },
};
