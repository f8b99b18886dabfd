import { jest } from '@jest/globals';
import { EmbeddedPostgres } from 'atlassian-connect-nest/advanced';
import pg from 'pg';
import { DataSource } from 'typeorm';

/**
 * Records every embedded engine and every TypeORM DataSource started while it is installed, so a test
 * can check that a bootstrap that failed left nothing running (no listening engine, no open pool).
 */
export class BootstrapLeakWatch {
  private readonly engines: Promise<EmbeddedPostgres | undefined>[] = [];
  private readonly sources: { source: DataSource; initializing: Promise<unknown> }[] = [];
  private readonly restores: (() => void)[] = [];
  private readonly totals = { engines: 0, dataSources: 0 };

  install(): this {
    const engines = this.engines;
    const sources = this.sources;
    const totals = this.totals;
    const start = EmbeddedPostgres.start.bind(EmbeddedPostgres);
    const startSpy = jest.spyOn(EmbeddedPostgres, 'start').mockImplementation((options) => {
      const started = start(options);
      totals.engines++;
      engines.push(started.catch(() => undefined));
      return started;
    });
    const initialize = DataSource.prototype.initialize;
    const initSpy = jest.spyOn(DataSource.prototype, 'initialize').mockImplementation(function (this: DataSource) {
      const initializing = initialize.call(this);
      totals.dataSources++;
      sources.push({ source: this, initializing: initializing.catch(() => undefined) });
      return initializing;
    });
    this.restores.push(
      () => startSpy.mockRestore(),
      () => initSpy.mockRestore(),
    );
    return this;
  }

  /** How many engines / data sources were started since `install()`. */
  get started(): { engines: number; dataSources: number } {
    return { ...this.totals };
  }

  /**
   * Waits until nothing is starting any more (a failed bootstrap does not wait for its siblings, so an
   * engine may still be starting, and open its data source afterwards), then reports what is still
   * running: data sources still initialized, engines that still accept connections. Stops whatever it
   * finds, so one leak does not pile up across tests.
   */
  async leftRunning(): Promise<{ engines: number; dataSources: number }> {
    const engines: EmbeddedPostgres[] = [];
    let dataSources = 0;
    for (let quiet = 0; quiet < 3;) {
      const starting = this.engines.splice(0);
      const initializing = this.sources.splice(0);
      if (starting.length === 0 && initializing.length === 0) {
        quiet++;
        await sleep(100);
        continue;
      }
      quiet = 0;
      for (const { source, initializing: done } of initializing) {
        await withTimeout(done, 15_000);
        if (source.isInitialized) {
          dataSources++;
          await source.destroy().catch(() => undefined);
        }
      }
      for (const engine of starting) {
        const started = await withTimeout(engine, 15_000);
        if (started !== undefined) engines.push(started);
      }
    }
    // Every data source is closed now, so an engine still running accepts a connection.
    let runningEngines = 0;
    for (const engine of engines) {
      if (await acceptsConnections(engine.url)) runningEngines++;
      await engine.stop().catch(() => undefined);
    }
    return { engines: runningEngines, dataSources };
  }

  restore(): void {
    for (const restore of this.restores.splice(0)) restore();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
