// CPU time spent per task by each process of a throughput row: where the machine's two cores go.
// Linux only (/proc); elsewhere the meter reads nothing and the rows carry no CPU figures.
import * as fs from 'node:fs';

export interface CpuPerTask {
  /** The Temporal server process, ms of CPU per task. */
  serverMs: number;
  /** The store (FerretDB) process; null for a row that does not use it. */
  storeMs: number | null;
  /** This process: the worker and the client that starts the tasks. */
  workerMs: number;
}

interface CpuReading {
  server: number | null;
  store: number | null;
  worker: number;
}

/** Starts a measurement; the returned function ends it and divides by the tasks run meanwhile. */
export function meterCpu(pids: { server?: number; store?: number }): (tasks: number) => CpuPerTask | undefined {
  const read = (): CpuReading => ({
    server: pids.server === undefined ? null : processCpuMs(pids.server),
    store: pids.store === undefined ? null : processCpuMs(pids.store),
    worker: selfCpuMs(),
  });
  const start = read();
  return (tasks) => {
    const end = read();
    if (start.server === null || end.server === null) return undefined;
    const perTask = (a: number, b: number) => (b - a) / tasks;
    return {
      serverMs: perTask(start.server, end.server),
      storeMs: start.store === null || end.store === null ? null : perTask(start.store, end.store),
      workerMs: perTask(start.worker, end.worker),
    };
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the project runs on

/** User + system CPU of a process (all its threads), in ms; null when it cannot be read. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
