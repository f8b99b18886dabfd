import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

// The layering in eslint.config.js is only worth something if it rejects a wrong-way import. Each probe
// below is linted by the repo's own ESLint config (in a child process, as `npm run lint` runs it) under a
// path inside the layer it tests; the files need not exist, the imports they name do.
const root = resolve(import.meta.dirname, '..');

interface Probe {
  readonly name: string;
  readonly filePath: string;
  readonly code: string;
  /** The rule that must report, or `undefined` when the probe is allowed. */
  readonly rule: string | undefined;
}

const probes: readonly Probe[] = [
  { name: 'util imports a feature', filePath: 'src/connect/util/probe.ts', code: "import '../tenants/tenant-store.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'errors imports util', filePath: 'src/connect/errors/probe.ts', code: "import '../util/lru-cache.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'config imports a store class', filePath: 'src/connect/config/probe.ts', code: "import '../tenants/typeorm-tenant-store.js';", rule: 'import-x/no-restricted-paths' },
  {
    name: 'config names the TenantStore contract',
    filePath: 'src/connect/config/probe.ts',
    code: "import type { TenantStore } from '../tenants/tenant-store.js';\nexport type T = TenantStore;",
    rule: undefined,
  },
  { name: 'database imports tenants', filePath: 'src/connect/database/probe.ts', code: "import '../tenants/tenant-store.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'tenants imports lifecycle', filePath: 'src/connect/tenants/probe.ts', code: "import '../lifecycle/lifecycle-hook-registry.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'lifecycle imports tenants', filePath: 'src/connect/lifecycle/probe.ts', code: "import '../tenants/tenant-store.js';", rule: undefined },
  { name: 'runtime imports the test kit', filePath: 'src/connect/auth/probe.ts', code: "import '../testing/index.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'runtime imports the CLI', filePath: 'src/connect/http/probe.ts', code: "import '../cli/run-cli.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'the public entry imports the simulator', filePath: 'src/connect/probe.ts', code: "import './simulator/simulation.js';", rule: 'import-x/no-restricted-paths' },
  { name: 'a spec imports the test kit', filePath: 'src/connect/auth/probe.spec.ts', code: "import '../testing/index.js';", rule: undefined },
  { name: 'the test kit imports auth', filePath: 'src/connect/testing/probe.ts', code: "import '../auth/connect-auth.guard.js';", rule: undefined },
  { name: 'an import cycle', filePath: 'src/connect/errors/connect-error.ts', code: "import '../config/option-checks.js';", rule: 'import-x/no-cycle' },
  { name: 'the example imports by relative path', filePath: 'src/example/probe.ts', code: "import '../connect/index.js';", rule: 'no-restricted-imports' },
  { name: 'the example imports the package', filePath: 'src/example/probe.ts', code: "import 'atlassian-connect-nest';", rule: undefined },
  { name: 'runtime writes to the console', filePath: 'src/connect/auth/probe.ts', code: "console.log('x');", rule: 'no-console' },
];

const script = `
import { ESLint } from 'eslint';
const probes = JSON.parse(process.argv[1]);
const eslint = new ESLint({ cwd: process.cwd() });
const out = [];
for (const probe of probes) {
  const [result] = await eslint.lintText(probe.code, { filePath: probe.filePath });
  out.push(result.messages.map((m) => m.ruleId ?? m.message));
}
process.stdout.write(JSON.stringify(out));
`;

describe('eslint.config.js layering rules', () => {
  let reported: string[][];

  beforeAll(() => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(probes)], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`ESLint probe run failed (${run.status}): ${run.stderr}`);
    reported = JSON.parse(run.stdout) as string[][];
  }, 150_000);

  it.each(probes.map((probe, index) => [probe.name, index] as const))('%s', (_name, index) => {
    const probe = probes[index]!;
    const rules = reported[index]!;
    if (probe.rule === undefined) expect(rules).toEqual([]);
    else expect(rules).toContain(probe.rule);
  });
});
