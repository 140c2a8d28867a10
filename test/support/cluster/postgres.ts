// A throwaway PostgreSQL cluster on a free loopback port: initdb into a fresh directory, trust auth
// on 127.0.0.1 only, durability off (it lives for one test run). PostgreSQL refuses to run as root,
// so under root it runs as the `postgres` (or `nobody`) user with a directory it owns.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from '../../../src/infra/free-port';
import { ManagedProcess } from '../../../src/infra/managed-process';

export interface RunningPostgres {
  host: string;
  port: number;
  /** The superuser (trust auth, no password). */
  user: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** initdb and postgres from PATH or Debian's /usr/lib/postgresql/<version>/bin, newest first. */
export function postgresBinDir(): string {
  const debian = '/usr/lib/postgresql';
  const versions = fs.existsSync(debian)
    ? fs.readdirSync(debian).filter((v) => fs.existsSync(path.join(debian, v, 'bin', 'initdb')))
    : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length > 0) return path.join(debian, versions[0]!, 'bin');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir && fs.existsSync(path.join(dir, 'initdb'))) return dir;
  throw new Error('PostgreSQL (initdb) is not installed: run ./scripts/setup --test.');
}

/** Runs a command as the unprivileged owner when we are root; as ourselves otherwise. */
function asOwner(owner: { uid: number; gid: number } | undefined, command: string, args: string[]): [string, string[]] {
  if (!owner) return [command, args];
  return ['setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--', command, ...args]];
}

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const id = (flag: string) =>
        Number(
          execFileSync('id', [flag, name], { stdio: ['ignore', 'pipe', 'ignore'] })
            .toString()
            .trim(),
        );
      return { uid: id('-u'), gid: id('-g') };
    } catch {
      /* try the next one */
    }
  }
  throw new Error('PostgreSQL refuses to run as root and neither the postgres nor the nobody user exists.');
}

/** Its data lives in a directory of its own under the system temp dir (a test's scratch is root's only). */
export async function startPostgres(options: { logFile?: string } = {}): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const owner = unprivilegedUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bridge-pg-'));
  const data = path.join(dir, 'data');
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const [initdb, initArgs] = asOwner(owner, path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  execFileSync(initdb, initArgs, { stdio: ['ignore', 'ignore', 'pipe'] });

  const port = await freePort();
  const [postgres, args] = asOwner(owner, path.join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'max_connections=300',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ]);
  const proc = new ManagedProcess({ name: 'postgres', command: postgres, args, logFile: options.logFile });
  try {
    await waitForPort('127.0.0.1', port, 30_000, () => proc.alive);
  } catch (err) {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${(err as Error).message}.`, { cause: err });
  }
  const stop = async () => {
    await proc.stop(10_000);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { host: '127.0.0.1', port, user: 'postgres', process: proc, stop };
}
