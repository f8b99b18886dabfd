import type { ConnectDescriptorInput } from 'atlassian-connect-nest';

/** What the example's Jira and Confluence descriptors share. */
export const exampleDescriptorBase: ConnectDescriptorInput = {
  description: 'Shows atlassian-connect-nest serving Jira and Confluence from one process.',
  vendor: { name: 'atlassian-connect-nest', url: 'https://github.com/atlassian-connect-nest' },
  apiVersion: 1,
  scopes: ['READ', 'ACT_AS_USER'],
  enableLicensing: false,
};
