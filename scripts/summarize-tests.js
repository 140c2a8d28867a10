// Prints one closing line for all suites: "total: N passed, N failed, N skipped".
// Arguments: report files, Jest JSON (*.json) or JUnit XML from pytest (*.xml). A report that was
// expected but is missing (its runner crashed before writing it) counts as one failure.
const fs = require('node:fs');
let passed = 0,
  failed = 0,
  skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    failed += 1;
    continue;
  }
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const r = JSON.parse(text);
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped += r.numPendingTests + (r.numTodoTests || 0);
    continue;
  }
  const m = /<testsuite[^>]*?errors="(\d+)"[^>]*?failures="(\d+)"[^>]*?skipped="(\d+)"[^>]*?tests="(\d+)"/.exec(text);
  if (!m) {
    failed += 1;
    continue;
  }
  const [errors, failures, skips, tests] = m.slice(1).map(Number);
  failed += errors + failures;
  skipped += skips;
  passed += tests - errors - failures - skips;
}
console.log(`total: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
