import { file, jsonFile, productList, type ScaffoldFile, type ScaffoldModel } from '../scaffold-model.js';

/** The files around the code: package.json, TypeScript, jest, git, Docker, environment. */
export function projectFiles(model: ScaffoldModel): ScaffoldFile[] {
  return [
    { path: 'package.json', contents: packageJson(model) },
    { path: 'tsconfig.json', contents: tsconfig() },
    { path: 'tsconfig.build.json', contents: tsconfigBuild() },
    { path: 'nest-cli.json', contents: nestCli() },
    { path: 'jest.config.js', contents: jestConfig() },
    { path: '.gitignore', contents: gitignore() },
    { path: '.env.example', contents: envExample(model) },
    { path: 'docker-compose.yml', contents: dockerCompose() },
  ];
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function packageJson(model: ScaffoldModel): string {
  return jsonFile({
    name: model.packageName,
    version: '0.1.0',
    private: true,
    description: `${model.name}: an Atlassian Connect app for ${productList(model)}, built with atlassian-connect-nest.`,
    type: 'module',
    engines: { node: model.versions.node },
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      start: 'tsc -p tsconfig.build.json && node dist/main.js',
      test: 'node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand',
    },
    dependencies: sorted({ 'atlassian-connect-nest': model.frameworkDependency, ...model.versions.dependencies }),
    devDependencies: sorted(model.versions.devDependencies),
  });
}

function tsconfig(): string {
  return jsonFile({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      skipLibCheck: true,
      sourceMap: true,
      outDir: 'dist',
      rootDir: '.',
      useUnknownInCatchVariables: true,
      noImplicitOverride: true,
      forceConsistentCasingInFileNames: true,
      isolatedModules: true,
      types: ['node', 'jest'],
    },
    include: ['src', 'test'],
  });
}

function tsconfigBuild(): string {
  return jsonFile({
    extends: './tsconfig.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist', types: ['node'] },
    include: ['src'],
    exclude: ['src/**/*.spec.ts'],
  });
}

function nestCli(): string {
  return jsonFile({
    $schema: 'https://json.schemastore.org/nest-cli',
    collection: '@nestjs/schematics',
    sourceRoot: 'src',
    entryFile: 'main',
    compilerOptions: { builder: 'tsc', tsConfigPath: 'tsconfig.build.json', deleteOutDir: true },
  });
}

function jestConfig(): string {
  return file([
    '// jest runs in ESM mode (NestJS 12 and jose 6 ship ES modules only): see the "test" script in package.json.',
    "const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }];",
    '// path-to-regexp 9 (from @fastify/middie, under @nestjs/platform-fastify) ships ES modules only, and CommonJS',
    '// packages require() it; jest can load that natively only from Node 24.9 on, so it is compiled to CommonJS.',
    "const ESM_ONLY_REQUIRED = '(?:.+/node_modules/)?path-to-regexp/';",
    'export default {',
    '  // The embedded database and real HTTP servers take a few seconds to start on a busy machine.',
    '  testTimeout: 60_000,',
    "  testEnvironment: 'node',",
    "  testEnvironmentOptions: { globalsCleanup: 'off' },",
    "  extensionsToTreatAsEsm: ['.ts'],",
    '  transform: {',
    "    '^.+\\\\.ts$': tsJest,",
    "    [`/node_modules/${ESM_ONLY_REQUIRED}.+\\\\.js$`]: ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],",
    '  },',
    '  transformIgnorePatterns: [`/node_modules/(?!${ESM_ONLY_REQUIRED})`],',
    '  // Sources import `./x.js` (ES modules); jest resolves them to `./x.ts`.',
    "  moduleNameMapper: { '^(\\\\.{1,2}/.*)\\\\.js$': '$1' },",
    "  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],",
    '};',
  ]);
}

function gitignore(): string {
  return file(['node_modules/', 'dist/', '.data/', 'coverage/', '*.log', '.env']);
}

function envExample(model: ScaffoldModel): string {
  const paths = model.apps.map((app) => app.path).join(' and ');
  return file([
    '# Copy to .env: `npm start` reads it (variables set in the environment win). Every setting is optional.',
    '',
    '# Port to listen on.',
    'PORT=3000',
    '',
    `# The public URL Atlassian reaches this process at, e.g. your tunnel's https URL (default http://localhost:$PORT).`,
    `# The apps live under it at ${paths}.`,
    '# APP_BASE_URL=https://my-tunnel.example.com',
    '',
    '# PostgreSQL (see docker-compose.yml). Without it an embedded engine keeps its data under .data/pglite.',
    '# DATABASE_URL=postgres://connect:connect@127.0.0.1:5432/connect',
    '# CONNECT_DATABASE_SCHEMA=public',
    '# Where the embedded engine keeps its data (default .data/pglite); "memory" keeps nothing.',
    '# CONNECT_EMBEDDED_DATA_DIR=.data/pglite',
    '',
    '# Where signed-install keys are fetched from (default https://connect-install-keys.atlassian.com).',
    '# CONNECT_INSTALL_KEYS_URL=',
    '',
    "# The OAuth 2.0 authorization server for acting as a user (default Atlassian's).",
    '# CONNECT_AUTHORIZATION_SERVER_URL=',
  ]);
}

function dockerCompose(): string {
  return file([
    '# PostgreSQL for running the app or the tests against a real server:',
    '#   docker compose up -d',
    '#   DATABASE_URL=postgres://connect:connect@127.0.0.1:5432/connect npm start',
    'services:',
    '  postgres:',
    '    image: postgres:16-alpine',
    '    environment:',
    '      POSTGRES_USER: connect',
    '      POSTGRES_PASSWORD: connect',
    '      POSTGRES_DB: connect',
    '    ports:',
    '      - "127.0.0.1:5432:5432"',
    '    volumes:',
    '      - pgdata:/var/lib/postgresql/data',
    '    healthcheck:',
    '      test: ["CMD-SHELL", "pg_isready -U connect -d connect"]',
    '      interval: 2s',
    '      timeout: 3s',
    '      retries: 30',
    'volumes:',
    '  pgdata:',
  ]);
}
