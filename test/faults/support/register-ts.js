// Lets a plain `node` child process run the TypeScript sources (fault tests start real worker
// processes from src/, so they test the code in the checkout rather than a possibly stale dist/).
// The same compiler the Jest suites use (@swc/core), without type checking.
'use strict';
const swc = require('@swc/core');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = swc.transformFileSync(filename, {
    swcrc: false,
    configFile: false,
    sourceMaps: 'inline',
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
