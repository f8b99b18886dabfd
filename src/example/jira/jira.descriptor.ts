import type { ConnectDescriptorInput } from 'atlassian-connect-nest';
import { exampleDescriptorBase } from '../common/example-descriptor.js';

/** The Jira app's descriptor; the framework adds key, baseUrl, authentication, lifecycle and apiMigrations. */
export const jiraDescriptor: ConnectDescriptorInput = {
  name: 'Connect Nest Example for Jira',
  ...exampleDescriptorBase,
  modules: {
    generalPages: [{ key: 'hello-page', name: { value: 'Hello from Nest' }, url: '/pages/hello', location: 'system.top.navigation.bar' }],
  },
};
