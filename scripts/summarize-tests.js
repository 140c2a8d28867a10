// Prints one closing line for all suites: "total: N passed, N failed, N skipped".
const fs = require('node:fs');
const [jestFile, pytestFile] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
if (jestFile && fs.existsSync(jestFile)) {
  const r = JSON.parse(fs.readFileSync(jestFile, 'utf8'));
  passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0); skipped += r.numPendingTests + (r.numTodoTests || 0);
} else if (jestFile) failed += 1;
if (pytestFile && fs.existsSync(pytestFile)) {
  const xml = fs.readFileSync(pytestFile, 'utf8');
  const m = /<testsuite[^>]*?errors="(\d+)"[^>]*?failures="(\d+)"[^>]*?skipped="(\d+)"[^>]*?tests="(\d+)"/.exec(xml);
  if (m) {
    const [errors, failures, skips, tests] = m.slice(1).map(Number);
    failed += errors + failures; skipped += skips; passed += tests - errors - failures - skips;
  } else failed += 1;
}
console.log(`total: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
