import * as fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__codexBridgeTestServers;
  if (!started) return;
  await Promise.all([started.temporal?.stop(), started.store?.stop()]);
  if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(started.scratch, { recursive: true, force: true });
}
