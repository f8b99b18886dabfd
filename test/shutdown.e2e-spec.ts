/**
 * Graceful SIGTERM with a real child process (test/support/slow-app.mjs on the built framework): a
 * request in flight when the signal arrives is answered completely, the database pool closes after
 * it, and the process exits 0. Runs against DATABASE_URL when set, the embedded engine otherwise.
 */
import { jest } from '@jest/globals';
import { startTestDatabase } from 'atlassian-connect-nest/testing';
import { freePort, requireBuilt, startChild, type ChildApp } from './support/child-app.js';
import { testAdapterName } from './support/http-adapter.js';

jest.setTimeout(60_000);

describe('graceful shutdown on SIGTERM', () => {
  let child: ChildApp | undefined;
  let db: Awaited<ReturnType<typeof startTestDatabase>> | undefined;

  beforeAll(async () => {
    requireBuilt('dist/connect/index.js');
    if (process.env.DATABASE_URL) db = await startTestDatabase();
  });

  afterAll(async () => {
    await child?.stop(2_000);
    await db?.stop();
  });

  it('finishes the request in flight, closes the pool, exits 0', async () => {
    const port = await freePort();
    const started = Date.now();
    child = await startChild(
      'test/support/slow-app.mjs',
      {
        PORT: String(port),
        SLOW_MS: '500',
        ...(db ? { DATABASE_URL: db.url, CONNECT_DATABASE_SCHEMA: db.schema ?? '' } : {}),
      },
      { port },
    );
    const ready = Date.now();
    // the adapter the suite runs on reached the child (HTTP_ADAPTER); stdout may trail the health check
    for (const until = Date.now() + 5_000; !child.output().includes('slow app listening') && Date.now() < until;) await new Promise((wait) => setTimeout(wait, 10));
    expect(child.output()).toContain(`slow app listening on ${port} (${testAdapterName()})`);

    const response = fetch(`${child.url}/slow`).then(async (answer) => ({ status: answer.status, body: await answer.text() }));
    const deadline = Date.now() + 5_000;
    while (!child.output().includes('slow request started')) {
      if (Date.now() > deadline) throw new Error(`the slow request never started:\n${child.output()}`);
      await new Promise((wait) => setTimeout(wait, 10));
    }
    const signalled = Date.now();
    child.process.kill('SIGTERM');

    const answer = await response;
    const answered = Date.now();
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(`answer 42 ${'x'.repeat(64 * 1024)}`);

    expect(await child.exited).toBe(0);
    const exited = Date.now();
    // A kept-alive connection must not hold the process open until its idle timeout (72 s on Fastify).
    expect(exited - answered).toBeLessThan(10_000);
    const output = child.output();
    expect(output).toContain('slow request answered');
    expect(output).toContain('exiting with 0; database pool closed');
    expect(output.indexOf('slow request answered')).toBeLessThan(output.indexOf('database pool closed'));

    // Nothing listens on the port any more.
    await expect(fetch(`${child.url}/slow`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();

    // eslint-disable-next-line no-console
    console.info(`shutdown on ${db ? 'postgres' : 'embedded'}: start ${ready - started} ms, SIGTERM → response ${answered - signalled} ms, → exit ${exited - signalled} ms`);
  });
});
