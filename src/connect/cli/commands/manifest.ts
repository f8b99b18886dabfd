import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toForgeManifestYaml } from '../../forge/manifest/forge-manifest-yaml.js';
import type { ForgeManifestOptions } from '../../forge/manifest/forge-manifest.js';
import type { CliCommand } from '../cli-io.js';
import { buildManifestOfModule, describeFailure } from '../app-module.js';

const USAGE = `Usage: atlassian-connect-nest manifest --module <file>[#export] --app <key> [options]

Writes the Connect-on-Forge manifest (manifest.yml) of one app from the app itself: the module is
started without an HTTP server (its database included, as at start-up), its options, served
descriptor, Forge event and realm migration handlers, @ForgeAuth() routes and ForgeStorage
consumers are read, and it is closed again.

  --module <file>[#export]   the compiled file exporting your root module (default export unless
                             #name): a module class, a DynamicModule, or a function returning one
  --app <key>                the Connect app key (an app with forge.appId)
  --out <file>               where to write the YAML (default: standard output)
  --remote-key <key>         the remote's key (default backend)
  --in-scope-eud <bool>      remotes[].storage.inScopeEUD (default true)
  --runtime <name>           app.runtime.name (default nodejs24.x)
  --scope <scope>            one more permissions.scopes entry (repeatable), e.g. read:jira-work
  --storage <bool>           the app calls Forge hosted storage: adds storage:app (default: true
                             when a provider or controller injects ForgeStorage)
  --migration-hours <hours>  maxMigrationDurationHours of migration:dataResidency, 0.5 to 24 in
                             steps of 0.5 (default 1.5; the module is written when the app has
                             @OnRealmMigration() handlers of start and status)

Exit status: 0 written, 1 the app cannot have a manifest or failed to start, 2 usage error.`;

/** `atlassian-connect-nest manifest`: loads the user's module and writes what ForgeManifestBuilder builds. */
export const manifest: CliCommand = async (argv, io) => {
  const usage = (message: string) => {
    io.err(`manifest: ${message}`);
    io.err('Run `atlassian-connect-nest manifest --help` for the options.');
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        module: { type: 'string' },
        app: { type: 'string' },
        out: { type: 'string' },
        'remote-key': { type: 'string' },
        'in-scope-eud': { type: 'string' },
        runtime: { type: 'string' },
        scope: { type: 'string', multiple: true },
        storage: { type: 'string' },
        'migration-hours': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.module === undefined || values.module === '') return usage('--module is required.');
  if (values.app === undefined || values.app === '') return usage('--app is required.');
  const eud = values['in-scope-eud'];
  if (eud !== undefined && eud !== 'true' && eud !== 'false') return usage('--in-scope-eud must be true or false.');
  const storage = values.storage;
  if (storage !== undefined && storage !== 'true' && storage !== 'false') return usage('--storage must be true or false.');
  const hours = values['migration-hours'];
  if (hours !== undefined && !/^\d{1,2}(\.\d+)?$/.test(hours)) return usage('--migration-hours must be a number of hours, 0.5 to 24 in steps of 0.5.');
  const runtime = values.runtime;
  if (runtime !== undefined && !['nodejs20.x', 'nodejs22.x', 'nodejs24.x'].includes(runtime)) return usage('--runtime must be nodejs20.x, nodejs22.x or nodejs24.x.');
  const options: ForgeManifestOptions = {
    ...(values['remote-key'] !== undefined && { remoteKey: values['remote-key'] }),
    ...(eud !== undefined && { inScopeEUD: eud === 'true' }),
    ...(runtime !== undefined && { runtime: runtime as ForgeManifestOptions['runtime'] }),
    ...(values.scope !== undefined && { extraScopes: values.scope }),
    ...(storage !== undefined && { storage: storage === 'true' }),
    ...(hours !== undefined && { maxMigrationDurationHours: Number(hours) }),
  };

  try {
    const { manifest: data, warnings } = await buildManifestOfModule(values.module, values.app, options, io);
    const yaml = toForgeManifestYaml(data as unknown as Record<string, unknown>);
    for (const warning of warnings) io.err(`manifest: warning: ${warning}`);
    if (values.out === undefined) {
      for (const line of yaml.trimEnd().split('\n')) io.out(line);
    } else {
      writeAtomically(resolve(values.out), yaml);
      io.err(`manifest: wrote ${values.out} for ${values.app}.`);
    }
    return 0;
  } catch (error) {
    io.err(`manifest: ${describeFailure(error)}`);
    return 1;
  }
};

/** Written beside the target, then renamed: a failure never leaves half a manifest. */
function writeAtomically(path: string, text: string): void {
  const dir = mkdtempSync(join(dirname(path), `.${basename(path)}-`));
  try {
    const temporary = join(dir, basename(path));
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
