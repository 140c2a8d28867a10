// Only the history recorder (see scripts/record-histories).
const base = require('./jest.config.js');
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/replay/record-histories.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
