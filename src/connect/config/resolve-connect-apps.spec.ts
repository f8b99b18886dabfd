import { ConnectError } from '../errors/connect-error.js';
import type { ConnectAppOptions } from './connect-options.js';
import { resolveConnectApps } from './resolve-connect-apps.js';

const FORGE = { appId: '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11' };
const base = { product: 'jira' as const, key: 'com.test.apps', baseUrl: 'https://apps.example.com/jira' };

function refusal(app: ConnectAppOptions): string {
  try {
    resolveConnectApps([app]);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe('config/invalid');
    return (error as Error).message;
  }
  throw new Error('resolved, but should have been refused');
}

describe('resolveConnectApps: Connect apps and Forge-only apps', () => {
  it('a Connect app (the default) gets its descriptor built', () => {
    const [app] = resolveConnectApps([{ ...base, descriptor: { name: 'A' } }]);
    expect(app).toMatchObject({ connect: true, descriptor: { key: base.key, baseUrl: base.baseUrl, name: 'A' } });
  });

  it('a Forge-only app has no descriptor', () => {
    const [app] = resolveConnectApps([{ ...base, connect: false, forge: FORGE }]);
    expect(app).toMatchObject({ key: base.key, connect: false, descriptor: null, forgeAppId: FORGE.appId, basePath: '/jira' });
  });

  it('a Connect app without a descriptor is refused, naming both ways out', () => {
    expect(refusal({ ...base })).toMatch(/has no descriptor; give one, or `connect: false` \(with `forge.appId`\)/);
  });

  it('a Forge-only app must be a Forge app, without a descriptor', () => {
    expect(refusal({ ...base, connect: false })).toMatch(/`connect: false` but no `forge.appId`/);
    expect(refusal({ ...base, connect: false, forge: FORGE, descriptor: { name: 'A' } })).toMatch(/`connect: false` and a descriptor/);
    expect(refusal({ ...base, connect: 'no' as never, forge: FORGE })).toMatch(/has connect "no"; use true or false/);
  });
});
