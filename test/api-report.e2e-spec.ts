import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

// api/*.api.md is the public surface of the three entry points, checked in. `npm test` fails when the
// built declarations no longer match it (run `npm run api` and commit the diff), and the check itself
// is shown to fail when an entry point gains an export. Needs dist/ (`npm test` builds first).
const root = resolve(import.meta.dirname, '..');
const script = join(root, 'scripts', 'api-report.mjs');

function check(...extra: string[]) {
  return spawnSync(process.execPath, [script, '--check', ...extra], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

describe('the public API report (api/*.api.md)', () => {
  it('matches the built declarations of ., ./advanced and ./testing', () => {
    const run = check();
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('API report up to date: ., ./advanced, ./testing');
    expect(run.status).toBe(0);
  });

  describe('when an entry point changes', () => {
    const probe = join(root, '.scratch', `api-probe-${process.pid}`);
    beforeAll(() => {
      rmSync(probe, { recursive: true, force: true });
      mkdirSync(probe, { recursive: true });
      cpSync(join(root, 'dist', 'connect'), join(probe, 'dist', 'connect'), { recursive: true });
    });
    afterAll(() => rmSync(probe, { recursive: true, force: true }));

    it('fails and names the entry point whose surface changed', () => {
      appendFileSync(join(probe, 'dist', 'connect', 'testing', 'index.d.ts'), '\n/** A new export. */\nexport declare const probeExport: number;\n');
      const run = check('--declarations-root', probe);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('The public API changed: ./testing (api/testing.api.md).');
      expect(run.stderr).not.toContain('./advanced (');
    });

    it('fails when a signature names a type that no entry point exports', () => {
      appendFileSync(
        join(probe, 'dist', 'connect', 'index.d.ts'),
        '\ninterface HiddenShape { readonly a: string }\nexport declare function probeHidden(shape: HiddenShape): void;\n',
      );
      const run = check('--declarations-root', probe);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('The public API names types that no entry point exports: HiddenShape (in .)');
    });
  });
});
