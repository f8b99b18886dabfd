/**
 * The example app's data residency migration (src/example/realm-migration/): notes written through its
 * Forge Remote route move from the global realm to the target realm over a whole migration driven the
 * way Atlassian's migration service does, and a rollback leaves them where they were; on the suite's
 * adapter and engine, in the example's own tables.
 */
import { randomUUID } from 'node:crypto';
import { FakeForgeHost } from 'atlassian-connect-nest/testing';
import { SiteNotesMigration } from '../src/example/realm-migration/site-notes-migration.js';
import { INITIAL_REALM, SiteNotesStore } from '../src/example/realm-migration/site-notes.store.js';
import { startExample, type RunningExample } from './support/example-app.js';

const FORGE_APP_ID = randomUUID();

describe('the example app’s realm migration', () => {
  let forge: FakeForgeHost;
  let ex: RunningExample;

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    ex = await startExample({ forgeAppIdJira: FORGE_APP_ID, forgeJwksUrl: forge.jwksUrl, forgeSyncIntervalMs: 0 });
  });
  afterAll(async () => {
    await ex?.close();
    await forge?.close();
  });

  const hooks = () => `${ex.url}/jira/forge/realm-migration`;
  const fast = { retryDelayMs: 5, pollIntervalMs: 20 };
  /** A new installation with two notes written through the example's Forge route. */
  async function installationWithNotes(): Promise<{ installationId: string }> {
    const token = { installationId: `ari:cloud:ecosystem::installation/${randomUUID()}` };
    for (const text of ['first', 'second']) {
      const res = await forge.invoke(`${ex.url}/forge/remote/notes`, { token, body: { text } });
      expect(res.status).toBe(201);
    }
    return token;
  }
  const notesOf = async (token: { installationId: string }) => (await forge.invoke(`${ex.url}/forge/remote/notes`, { method: 'GET', token })).body;
  const store = () => ex.app.get(SiteNotesStore);

  it('moves the notes to the target realm: schedule → start (background copy) → status polling → commit', async () => {
    const token = await installationWithNotes();
    expect(await notesOf(token)).toEqual({ realm: INITIAL_REALM, notes: ['first', 'second'] });

    const report = await forge.migrateRealm(hooks(), { ...fast, token, location: 'EU', migrationId: 57500 });
    expect(report).toMatchObject({ outcome: 'committed', migrationId: '57500' });
    expect(report.calls.map((call) => call.phase)).toEqual(['schedule', 'start', ...report.statuses.map(() => 'status'), 'commit']);
    expect(report.statuses.at(-1)).toBe('ready-to-commit');
    expect(report.statuses.slice(0, -1).every((status) => status === 'in-progress')).toBe(true);

    expect(await notesOf(token)).toEqual({ realm: 'EU', notes: ['first', 'second'] });
    expect(await store().notesIn(token.installationId, INITIAL_REALM)).toEqual([]); // the old realm's copy is gone
    expect(await store().stateOf(token.installationId)).toMatchObject({ homeRealm: 'EU', migrationId: null, state: null });

    // Notes written after the move land in the new realm; a second migration moves them on.
    await forge.invoke(`${ex.url}/forge/remote/notes`, { token, body: { text: 'third' } });
    const onward = await forge.migrateRealm(hooks(), { ...fast, token, location: 'DE' });
    expect(onward.outcome).toBe('committed');
    expect(await notesOf(token)).toEqual({ realm: 'DE', notes: ['first', 'second', 'third'] });
  });

  it('a rollback after the copy drops it and restores the original realm', async () => {
    const token = await installationWithNotes();
    const report = await forge.migrateRealm(hooks(), { ...fast, token, location: 'AU', cancelAfter: 'start' });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'cancelled' });
    await ex.app.get(SiteNotesMigration).settled();
    expect(await notesOf(token)).toEqual({ realm: INITIAL_REALM, notes: ['first', 'second'] });
    expect(await store().notesIn(token.installationId, 'AU')).toEqual([]);
    expect(await store().stateOf(token.installationId)).toMatchObject({ homeRealm: INITIAL_REALM, migrationId: null, targetRealm: null, state: null });

    // The site can migrate again afterwards.
    expect((await forge.migrateRealm(hooks(), { ...fast, token, location: 'AU' })).outcome).toBe('committed');
    expect(await notesOf(token)).toEqual({ realm: 'AU', notes: ['first', 'second'] });
  });

  it('declines what it cannot do with Atlassian’s codes: an unsupported region (E0002), a start never scheduled (E0001), a second migration (E0004)', async () => {
    const token = await installationWithNotes();
    const mars = await forge.migrateRealm(hooks(), { ...fast, token, location: 'MARS' });
    expect(mars).toMatchObject({ outcome: 'rolled-back', reason: 'schedule-failed', errorResponseCode: 'E0002' });

    const start = await forge.invoke(`${hooks()}/start`, { token, body: { migrationId: 1, location: 'EU' } });
    expect([start.status, start.body]).toEqual([409, expect.objectContaining({ type: 'forge/realm-migration-refused', errorResponseCode: 'E0001' })]);

    const first = await forge.invoke(`${hooks()}/schedule`, { token, body: { migrationId: 2, location: 'EU' } });
    expect(first.status).toBe(200);
    const again = await forge.invoke(`${hooks()}/schedule`, { token, body: { migrationId: 2, location: 'EU' } });
    expect(again.status).toBe(200); // a retry of the same migration
    const second = await forge.invoke(`${hooks()}/schedule`, { token, body: { migrationId: 3, location: 'US' } });
    expect([second.status, (second.body as { errorResponseCode?: string }).errorResponseCode]).toEqual([409, 'E0004']);
    await forge.invoke(`${hooks()}/rollback`, { token, body: { migrationId: 2 } });
    expect(await notesOf(token)).toEqual({ realm: INITIAL_REALM, notes: ['first', 'second'] });
  });
});
