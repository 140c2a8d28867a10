const base = require('./jest.config.js');
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/faults/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
