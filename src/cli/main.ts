// The `codex-bridge` executable: runs the command line with the real process streams. Setting
// exitCode (not calling exit) lets output written to a pipe be flushed before the process ends.
import { runCli } from './run-cli';

void runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`codex-bridge: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
