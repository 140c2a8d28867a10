// Every API route but /healthz needs a bearer token. When the user has not set
// CODEX_BRIDGE_API_TOKEN, `dev` makes one and keeps it in the data directory, so it stays the same
// across restarts and a local Hermes can be configured once.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DevApiToken {
  token: string;
  /** The file it is kept in; undefined when it came from CODEX_BRIDGE_API_TOKEN. */
  file: string | undefined;
}

export function devApiToken(configured: string | undefined, dataDir: string): DevApiToken {
  if (configured !== undefined) return { token: configured, file: undefined };
  const file = path.join(dataDir, 'api-token');
  try {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (kept !== '') return { token: kept, file };
  } catch {
    /* first start: made below */
  }
  const token = randomBytes(24).toString('base64url');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  return { token, file };
}
