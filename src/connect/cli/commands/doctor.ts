import type { ForgeManifest } from '../../forge/manifest/forge-manifest.js';
import { buildManifestOfModule, describeFailure } from '../app-module.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readForgeManifestYaml } from '../../forge/manifest/read-forge-manifest-yaml.js';
import { parseDoctorTarget, runDoctorChecks, type DoctorCheck, type DoctorTarget } from '../../diagnostics/doctor-checks.js';
import { CONNECT_DEFAULTS } from '../../config/connect-defaults.js';
import { parseInstallKeysBaseUrl } from '../../config/url-options.js';
import type { CliCommand } from '../cli-io.js';

const DEFAULT_TIMEOUT_MS = 5000;

const USAGE = `Usage: atlassian-connect-nest doctor <baseUrl | descriptor URL> [options]

Checks a running app from outside, as the product sees it: the descriptor at
<baseUrl>/atlassian-connect.json (valid JSON, its baseUrl, https, port, jwt authentication,
the signed-install and context-qsh migrations), every lifecycle URL (an unsigned POST must get
401, not 404 or 500) and the install keys host.

  --install-keys-url <url>   the install keys host the app uses (unreachable: FAIL); without it
                             ${CONNECT_DEFAULTS.installKeysUrl} is tried for 3 s (unreachable: WARN)
  --timeout <ms>             per request (default ${DEFAULT_TIMEOUT_MS})
  --manifest <file>          also check a Connect-on-Forge manifest.yml against the app: app.connect.key
                             is the descriptor's key, the Connect remote holds its baseUrl, every remote
                             endpoint answers 401 without a Forge Invocation Token, and every trigger,
                             scheduledTrigger and preUninstall module's endpoint is one of them
  --module <file>[#export]   with --manifest and --app: also load the app's module (as \`manifest\` does)
  --app <key>                and check that every event, scheduled trigger, preUninstall and realm
                             migration handler it has is in the manifest (else Forge never calls it)

Prints one PASS, WARN or FAIL line per check.
Exit status: 0 no check failed (warnings allowed), 1 at least one FAIL, 2 usage error.`;

const TAGS = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** `atlassian-connect-nest doctor`: argument parsing and printing; the checks are in diagnostics/doctor-checks. */
export const doctor: CliCommand = async (argv, io) => {
  const usage = (message: string) => {
    io.err(`doctor: ${message}`);
    io.err('Run `atlassian-connect-nest doctor --help` for the options.');
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'install-keys-url': { type: 'string' },
        timeout: { type: 'string' },
        manifest: { type: 'string' },
        module: { type: 'string' },
        app: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usage('give exactly one baseUrl or descriptor URL.');
  let target: DoctorTarget;
  try {
    target = parseDoctorTarget(positionals[0]!);
  } catch (error) {
    return usage((error as Error).message);
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    timeoutMs = Number(values.timeout);
    if (!/^\d+$/.test(values.timeout) || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1) return usage('--timeout must be a positive number of milliseconds.');
  }
  const installKeysUrl = values['install-keys-url'];
  if (installKeysUrl !== undefined) {
    try {
      parseInstallKeysBaseUrl(installKeysUrl);
    } catch (error) {
      return usage(`--install-keys-url: ${(error as Error).message}`);
    }
  }

  let manifest: unknown;
  if (values.manifest !== undefined) {
    try {
      manifest = readForgeManifestYaml(readFileSync(values.manifest, 'utf8'));
    } catch (error) {
      return usage(`--manifest ${values.manifest}: ${(error as Error).message}`);
    }
    if (manifest === null || manifest === undefined) return usage(`--manifest ${values.manifest} is empty.`);
  }
  let expectedManifest: ForgeManifest | undefined;
  if (values.module !== undefined || values.app !== undefined) {
    if (manifest === undefined || !values.module || !values.app) return usage('--module and --app go together, with --manifest.');
    try {
      expectedManifest = (await buildManifestOfModule(values.module, values.app, {}, io)).manifest;
    } catch (error) {
      io.err(`doctor: --module ${values.module}: ${describeFailure(error)}`);
      return 1;
    }
  }

  io.out(`Checking ${target.baseUrl ?? target.descriptorUrl} (descriptor ${target.descriptorUrl})`);
  const width = manifest === undefined ? 'lifecycle uninstalled'.length : 'scheduledTrigger forge-scheduled'.length;
  const checks = await runDoctorChecks(target, {
    fetch: globalThis.fetch,
    timeoutMs,
    ...(installKeysUrl !== undefined && { installKeysUrl }),
    ...(manifest !== undefined && { manifest }),
    ...(expectedManifest !== undefined && { expectedManifest }),
    onCheck: (check) => io.out(`${TAGS[check.status]}  ${check.name.padEnd(width)}  ${check.message}`),
  });
  const count = (status: DoctorCheck['status']) => checks.filter((check) => check.status === status).length;
  const failed = count('fail');
  io.out(`${checks.length} checks: ${count('pass')} passed, ${count('warn')} warnings, ${failed} failed`);
  return failed > 0 ? 1 : 0;
};
