/**
 * atlassian-connect-nest/testing: what app authors use in their own tests to act as Jira or
 * Confluence (signed installs with real RSA keys, HS256 request tokens) against a real app.
 */
export { FakeConnectHost, type FakeHostApp, type FakeSite, type LifecycleCallOptions } from './fake-connect-host.js';
export { signConnectToken, type SignConnectTokenOptions } from './sign-connect-token.js';
export { createInstallKeyPair, type InstallKeyPair, type CreateInstallKeyPairOptions } from './install-key-pair.js';
export { InstallKeyServer, type InstallKeyServerOptions, type InstallKeyServerResponse } from './install-key-server.js';
export { httpCall, type HttpCallOptions, type HttpCallResponse } from './http-call.js';
export { startTestDatabase } from './test-database.js';
