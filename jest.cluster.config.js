const base = require('./jest.config.js');
/** The cluster scenario: its own temporal-server, PostgreSQL and workers (see test/cluster/). */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
