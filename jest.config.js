// jest runs in ESM mode (NestJS 12 and jose 6 ship ES modules only): see the "test" script.
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }];
const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: {
    '^atlassian-connect-nest$': '<rootDir>/src/connect/index.ts',
    '^atlassian-connect-nest/advanced$': '<rootDir>/src/connect/advanced.ts',
    '^atlassian-connect-nest/testing$': '<rootDir>/src/connect/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
  testEnvironmentOptions: { globalsCleanup: 'off' },
};
export default {
  // PGlite start-up and real HTTP servers take a few seconds on a loaded 2-core machine.
  testTimeout: 60_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
