import { parseArgs } from 'node:util';
import { readFrameworkManifest, scaffoldVersions, type ScaffoldVersions } from '../../scaffold/framework-manifest.js';
import { scaffoldFiles } from '../../scaffold/scaffold-files.js';
import { ADAPTER_NAMES, PRODUCT_NAMES } from '../../scaffold/scaffold-model.js';
import { MAX_APP_KEY_LENGTH, MAX_APP_NAME_LENGTH, resolveScaffoldOptions, ScaffoldOptionsError, type ScaffoldOptions } from '../../scaffold/scaffold-options.js';
import { checkScaffoldTarget, ScaffoldTargetError, writeScaffold, type ScaffoldTarget } from '../../scaffold/write-scaffold.js';
import type { CliCommand, CliIo } from '../cli-io.js';

export const NEW_HELP = `Usage: atlassian-connect-nest new <directory> [options]

Creates a NestJS app on atlassian-connect-nest in <directory>: one Connect app per product, served by
one process (keys <prefix>.jira and <prefix>.confluence, baseUrl paths /jira and /confluence), each
with a descriptor and a page module, JSON routes behind @ConnectAuth() (request-bound and context
tokens), an @OnInstalled() hook, a call to the product's REST API as the app, and end-to-end tests
that play Atlassian with atlassian-connect-nest/testing. Then:

  cd <directory>
  npm install && npm start   # http://localhost:3000, embedded database
  npm test

Options:
  --products <list>        jira, confluence or jira,confluence (default: both)
  --name <name>            the app's name in its descriptors (default: from the directory name,
                           my-app → "My App"); one line, 1 to ${MAX_APP_NAME_LENGTH} characters
  --key-prefix <prefix>    the app keys are <prefix>.<product> (default: com.example.<directory
                           name>); a-z A-Z 0-9 . _ - only, and each key at most ${MAX_APP_KEY_LENGTH} characters
  --adapter <name>         the Nest HTTP adapter the app runs on: fastify (the default; about 4x
                           Express's throughput on the same routes) or express
  --package-manager <pm>   npm (the only one supported for now; the default)
  -h, --help               this text

<directory> must not exist yet, or be empty. Nothing is written unless every option is valid, and a
failure while writing leaves nothing behind.
Exit status: 0 created, 1 writing failed, 2 usage error.`;

const RERUN = 'Run `atlassian-connect-nest new --help` for the options.';

/** `atlassian-connect-nest new <directory>`: checks everything, then writes the project in one move. */
export const newApp: CliCommand = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        products: { type: 'string' },
        name: { type: 'string' },
        'key-prefix': { type: 'string' },
        'package-manager': { type: 'string' },
        adapter: { type: 'string' },
        // Not in the help: the dependency spec of atlassian-connect-nest (e.g. file:<tarball> in tests).
        'framework-spec': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(io, [messageOf(error)]);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(NEW_HELP);
    return 0;
  }
  if (positionals.length === 0) return usage(io, ['Name the directory to create, e.g. `atlassian-connect-nest new my-app`.']);
  if (positionals.length > 1) return usage(io, [`One directory only, got ${positionals.map((p) => JSON.stringify(p)).join(', ')} (quote a --name with spaces).`]);
  const shownAs = positionals[0]!;

  let options: ScaffoldOptions;
  try {
    options = resolveScaffoldOptions(
      {
        directory: shownAs,
        products: values.products,
        name: values.name,
        keyPrefix: values['key-prefix'],
        packageManager: values['package-manager'],
        adapter: values.adapter,
        frameworkSpec: values['framework-spec'],
      },
      process.cwd(),
    );
  } catch (error) {
    if (error instanceof ScaffoldOptionsError) return usage(io, error.problems);
    throw error;
  }

  let versions: ScaffoldVersions;
  try {
    versions = scaffoldVersions(readFrameworkManifest(), options.adapter);
  } catch (error) {
    io.err(`new: cannot read this package's dependency versions: ${messageOf(error)}`);
    return 1;
  }
  const files = scaffoldFiles(options, versions);

  let target: ScaffoldTarget;
  try {
    target = await checkScaffoldTarget(options.directory, shownAs);
  } catch (error) {
    if (error instanceof ScaffoldTargetError) return usage(io, [error.message, 'Nothing was written.'], false);
    throw error;
  }
  try {
    await writeScaffold(target, files);
  } catch (error) {
    io.err(`new: could not write ${shownAs}: ${messageOf(error)}. Nothing was left behind.`);
    return 1;
  }

  io.out(`Created ${options.name} in ${shownAs} (${files.length} files, on ${ADAPTER_NAMES[options.adapter].label}):`);
  for (const app of options.apps) io.out(`  ${`${PRODUCT_NAMES[app.product].label} app`.padEnd(16)} key ${app.key.padEnd(40)} at ${app.path}`);
  io.out('');
  io.out('Next:');
  if (options.directory !== process.cwd()) io.out(`  cd ${shellWord(shownAs)}`);
  io.out(`  npm install && npm start   # ${options.apps.map((app) => `http://localhost:3000${app.path}/atlassian-connect.json`).join(', ')}`);
  io.out('  npm test');
  return 0;
};

function usage(io: CliIo, problems: readonly string[], rerun = true): number {
  for (const problem of problems) io.err(`new: ${problem}`);
  if (rerun) io.err(RERUN);
  return 2;
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** `text` as one POSIX shell word. */
function shellWord(text: string): string {
  return /^[\w./~-]+$/.test(text) && !text.startsWith('~') ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
