import type { ConnectAppOptions } from '../config/connect-options.js';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { resolveConnectApps } from '../config/resolve-connect-apps.js';

const APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';

function app(key: string, forge?: unknown): ConnectAppOptions {
  return { product: 'jira', key, baseUrl: `https://app.example.com/${key}`, descriptor: { name: key }, ...(forge !== undefined && { forge: forge as { appId: string } }) };
}

describe('forge.appId of an app', () => {
  it('is resolved as forgeAppId and found by the registry', () => {
    const apps = resolveConnectApps([app('jira', { appId: APP_ID }), app('confluence')]);
    expect(apps[0]!.forgeAppId).toBe(APP_ID);
    expect(apps[1]).not.toHaveProperty('forgeAppId');
    const registry = new ConnectAppRegistry(apps);
    expect(registry.getByForgeAppId(APP_ID)?.key).toBe('jira');
    expect(registry.getByForgeAppId('ffffffff-1111-4222-8333-444444444444')).toBeUndefined();
  });

  it.each([{ appId: 'not-a-uuid' }, { appId: APP_ID.toUpperCase() }, { appId: `ari:cloud:ecosystem::app/${APP_ID}` }, {}, null])('refuses forge %j at bootstrap', (forge) => {
    expect(() => resolveConnectApps([app('jira', forge)])).toThrow(expect.objectContaining({ code: 'config/invalid', message: expect.stringContaining('forge.appId') }));
  });

  it('refuses two apps with one Forge app id', () => {
    expect(() => resolveConnectApps([app('jira', { appId: APP_ID }), app('confluence', { appId: APP_ID })])).toThrow(
      expect.objectContaining({ code: 'config/invalid', message: expect.stringContaining('Forge app id') }),
    );
  });
});
