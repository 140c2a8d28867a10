// One Temporal dev server and one MongoDB-wire store serve the whole run (global setup);
// each test file bundles its workflow code once (see test/support/workflow-bundle.ts).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite and the cluster scenario run on servers of their own, under their own configs.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/faults/', '/test/cluster/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120_000,
  maxWorkers: 2,
  verbose: true,
};
