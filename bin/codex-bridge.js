#!/usr/bin/env node
// Runs the compiled CLI (scripts/setup compiles src/ into dist/ with tsc).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const main = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('codex-bridge: the CLI is not built yet: run ./scripts/setup (or npm run build) first.\n');
  process.exitCode = 1;
} else {
  require(main);
}
