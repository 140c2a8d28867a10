// `<dataDir>/dev.pid`: which launcher runs from this data directory and which process groups it
// started. A launcher that is SIGKILLed cannot stop its children (each lives in its own process
// group so that Ctrl-C in the terminal reaches only the launcher), so the next start reads this
// file, stops what was left behind, and only then checks the ports.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DevError } from './dev-error';
import { commandLine, killGroup, stopGroup } from './process-group';

export interface RecordedProcess {
  name: string;
  pid: number;
  /** From /proc at record time; null where there is no /proc (then a pid is never trusted to be ours). */
  cmdline: string[] | null;
}

export interface RunRecord {
  launcher: RecordedProcess;
  children: RecordedProcess[];
}

export class PidFile {
  private children: RecordedProcess[] = [];

  constructor(readonly file: string) {}

  /**
   * Makes this process the data directory's launcher. Throws DevError when another live launcher
   * owns it; stops (and logs) children that a crashed launcher left running.
   */
  async claim(log: (line: string) => void): Promise<void> {
    const previous = readRunRecord(this.file);
    if (previous) {
      if (previous.launcher.pid !== process.pid && isSameProcess(previous.launcher)) {
        throw new DevError(
          `codex-bridge dev is already running from ${path.dirname(this.file)} (pid ${previous.launcher.pid}): stop it first, or use another data directory.`,
        );
      }
      const leftovers = previous.children.filter(isSameProcess);
      for (const child of leftovers) {
        log(
          `stopping ${child.name} (pid ${child.pid}), left running by a previous codex-bridge dev that did not exit cleanly`,
        );
      }
      await Promise.all(leftovers.map((child) => stopGroup(child.pid, 5000)));
    }
    this.children = [];
    this.write();
  }

  /** Adds a started child (its pid is also its process group id). */
  add(name: string, pid: number): void {
    this.children.push({ name, pid, cmdline: commandLine(pid) });
    this.write();
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }

  private write(): void {
    const record: RunRecord = {
      launcher: { name: 'launcher', pid: process.pid, cmdline: commandLine(process.pid) },
      children: this.children,
    };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
    fs.renameSync(tmp, this.file); // never a half-written file for the next start to misread
  }
}

export function readRunRecord(file: string): RunRecord | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
    return parsed && typeof parsed.launcher?.pid === 'number' && Array.isArray(parsed.children) ? parsed : null;
  } catch {
    return null; // missing or unreadable: nothing to clean up
  }
}

/** SIGKILL every recorded child group at once (a second Ctrl-C while stopping). */
export function killRecordedChildren(file: string): void {
  for (const child of readRunRecord(file)?.children ?? []) {
    if (isSameProcess(child)) killGroup(child.pid);
  }
}

// A pid alone can have been reused since it was recorded; the command line must match as well.
function isSameProcess(recorded: RecordedProcess): boolean {
  if (recorded.cmdline === null) return false;
  const now = commandLine(recorded.pid); // a zombie's is empty, so it never matches
  return now !== null && sameArgs(now, recorded.cmdline);
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}
