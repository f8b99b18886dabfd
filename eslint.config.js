// ESLint (flat config): typescript-eslint's recommended rules, no import cycles, and the layering of
// src/connect written down as import-x/no-restricted-paths zones, so a wrong-way import fails `npm run lint`
// (and CI) instead of waiting for review. eslint.config.spec.ts proves each zone rejects a violation.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

const connect = 'src/connect';
/** Folders of src/connect that only tools and tests use; the runtime (what `ConnectModule` loads) must not import them. */
const toolFolders = ['testing', 'cli', 'scaffold', 'simulator'];

/** The one-way layers: each zone names what a folder must not import. Paths are relative to the repo. */
export const layerZones = [
  ...[
    ['util', 'shared helpers depend on nothing else in the framework'],
    ['errors', 'the error types depend on nothing else in the framework'],
  ].map(([folder, why]) => ({ target: `${connect}/${folder}`, from: connect, except: [`./${folder}`], message: `(${folder}/: ${why})` })),
  {
    target: `${connect}/config`,
    from: connect,
    // The option types name the pluggable contracts (types only) and the descriptor is built while resolving.
    except: ['./config', './errors', './util', './descriptor', './forge/forge-app-id.ts', './keys/install-key-resolver.ts', './tenants/tenant-store.ts', './tenants/tenant.ts'],
    message: '(config/ sits below every feature: it may use errors/, util/, descriptor/ and the contract types only)',
  },
  {
    target: `${connect}/database`,
    from: ['tenants', 'keys', 'auth', 'lifecycle', 'http', 'client', 'forge', 'retention'].map((folder) => `${connect}/${folder}`),
    message: '(database/ sits below the tenant store and every feature)',
  },
  {
    target: `${connect}/tenants`,
    from: ['keys', 'auth', 'lifecycle', 'http', 'client', 'forge', 'retention'].map((folder) => `${connect}/${folder}`),
    message: '(tenants/ sits below lifecycle, auth, http, client, forge and retention)',
  },
];

/** The example app uses the framework as its users do. (The package name resolves into src/connect through tsconfig paths, so this is a rule on the import text.) */
export const examplePatterns = [
  { regex: '^\\.{1,2}/(.*/)?connect(/|$)', message: "The example app imports the framework as 'atlassian-connect-nest' (or a subpath), never by a relative path." },
];

/** Runtime code must not reach into the test kit or the command-line tools. */
export const runtimeZone = {
  target: connect,
  from: toolFolders.map((folder) => `${connect}/${folder}`),
  message: '(runtime code must not import testing/, cli/, scaffold/ or simulator/)',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', '.scratch/**'] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    rules: {
      // `let server; server = start(() => server.handle())`: the callback reads it before the one assignment.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
    },
  },
  {
    // The framework logs through Nest's Logger (redacted, levelled); specs and e2e suites print timings on purpose, marked line by line.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ignores: [`${connect}/cli/**`],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['src/example/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: examplePatterns }] },
  },
  {
    files: [`${connect}/**/*.ts`],
    ignores: ['**/*.spec.ts', '**/*.spec-helpers.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones }] },
  },
  {
    files: [`${connect}/**/*.ts`],
    ignores: ['**/*.spec.ts', '**/*.spec-helpers.ts', ...toolFolders.map((folder) => `${connect}/${folder}/**`)],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: [...layerZones, runtimeZone] }] },
  },
);
