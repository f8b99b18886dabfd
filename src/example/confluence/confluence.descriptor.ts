import type { ConnectDescriptorInput } from 'atlassian-connect-nest';
import { exampleDescriptorBase } from '../common/example-descriptor.js';

/** The Confluence app's descriptor; the framework adds key, baseUrl, authentication, lifecycle and apiMigrations. */
export const confluenceDescriptor: ConnectDescriptorInput = {
  name: 'Connect Nest Example for Confluence',
  ...exampleDescriptorBase,
  modules: {
    generalPages: [{ key: 'hello-page', name: { value: 'Hello from Nest' }, url: '/pages/hello', location: 'system.header/left' }],
    staticContentMacros: [
      {
        key: 'hello-macro',
        name: { value: 'Hello macro' },
        url: '/macros/hello?pageId={page.id}',
        outputType: 'block',
        bodyType: 'none',
      },
    ],
  },
};
