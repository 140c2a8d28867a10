// The admission workflow of a task queue (id codex-bridge-admission-<queue>): the durable queue of
// task runs waiting for a slot and the runs holding one. Runs ask with requestSlot (through
// signal-with-start, which starts this workflow when it is not running), are told their position
// and then slotGranted, and give the slot back with releaseSlot. It ends once nobody has held or
// waited for a slot for IDLE_LINGER_MS, and continues as new with its queue before its history
// grows long.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import {
  admissionStateQuery,
  pauseAdmissionSignal,
  queuePositionSignal,
  releaseSlotSignal,
  requestSlotSignal,
  slotGrantedSignal,
  type AdmissionSnapshot,
  type SlotRequest,
} from '../src/contract/admission';
import { holderKey, nextAdmissions, queuePositions, withRequest } from './admission-rules';

/**
 * While runs wait, the holders are checked this often: a run that closed without giving its slot
 * back (terminated, timed out, reset) no longer takes a signal, and its slot is freed.
 */
export const HOLDER_CHECK_MS = 5 * 60_000;
/**
 * An idle queue waits this long for the next request before it ends, so that tasks started one
 * after another find it running: a request that has to start it takes about twice as long.
 */
export const IDLE_LINGER_MS = 30_000;
/** Runs before this gate ended as soon as they were idle; their histories replay so. */
const LINGERS_WHEN_IDLE = 'admission-lingers-when-idle';
const MAX_HISTORY_EVENTS = 5_000;
/** In `told`: the run has been told its slot is granted. */
const GRANTED = -1;
const EMPTY: AdmissionSnapshot = { queued: [], running: [], paused_until: null };

export async function admissionWorkflow(start: AdmissionSnapshot = EMPTY): Promise<void> {
  let queued = [...start.queued];
  let running = [...start.running];
  let pausedUntil = start.paused_until ? Date.parse(start.paused_until) : 0;
  /** What each run was last told: its position, or GRANTED (a new run of this workflow tells everyone again). */
  const told = new Map<string, number>();
  let changed = true;
  const paused = () => pausedUntil > Date.now();
  const snapshot = (): AdmissionSnapshot => ({
    queued,
    running,
    paused_until: paused() ? new Date(pausedUntil).toISOString() : null,
  });
  const drop = (key: string) => {
    queued = queued.filter((r) => holderKey(r) !== key);
    running = running.filter((r) => holderKey(r) !== key);
    told.delete(key);
    changed = true;
  };

  setHandler(requestSlotSignal, (request) => {
    const next = withRequest(queued, running, request);
    ({ queued, running } = next);
    if (!next.added) told.delete(holderKey(request)); // asked again (a retried activity): answered again
    changed = true;
  });
  setHandler(releaseSlotSignal, (holder) => drop(holderKey(holder)));
  setHandler(pauseAdmissionSignal, ({ until }) => {
    const at = Date.parse(until);
    if (Number.isNaN(at)) return;
    pausedUntil = Math.max(pausedUntil, at);
    changed = true;
  });
  setHandler(admissionStateQuery, snapshot);

  for (;;) {
    const checkHolders = !paused() && queued.length > 0 && running.length > 0;
    const timeout = paused() ? pausedUntil - Date.now() : checkHolders ? HOLDER_CHECK_MS : undefined;
    const wake = () => changed || continueAsNewDue();
    const woke = timeout === undefined ? (await condition(wake), true) : await condition(wake, timeout);
    changed = false;
    // Telling a holder its slot is granted again changes nothing for a live run and fails for a closed one.
    if (!woke && checkHolders) for (const request of running) told.delete(holderKey(request));
    if (!paused()) {
      for (const request of nextAdmissions(queued, running)) {
        queued = queued.filter((r) => r !== request);
        running = [...running, request];
        told.delete(holderKey(request));
      }
    }
    await tellEveryone();
    if (changed) continue;
    if (queued.length === 0 && running.length === 0 && !paused()) {
      if (patched(LINGERS_WHEN_IDLE) && (await condition(() => changed, IDLE_LINGER_MS))) continue;
      await condition(allHandlersFinished);
      return; // a request that arrives now makes the server refuse this completion and deliver it first
    }
    if (continueAsNewDue()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof admissionWorkflow>(snapshot());
    }
  }

  /** Tells each run what changed for it, all at once; a run that no longer takes signals is dropped. */
  async function tellEveryone(): Promise<void> {
    const positions = queuePositions(queued);
    const tells: Promise<void>[] = [];
    for (const request of running) {
      const key = holderKey(request);
      if (told.get(key) === GRANTED) continue;
      told.set(key, GRANTED);
      tells.push(tell(request, slotGrantedSignal).then((ok) => (ok ? undefined : drop(key))));
    }
    for (const request of queued) {
      const key = holderKey(request);
      const ahead = positions.get(key)!;
      if (told.get(key) === ahead) continue;
      told.set(key, ahead);
      tells.push(tell(request, queuePositionSignal, { ahead }).then((ok) => (ok ? undefined : drop(key))));
    }
    await Promise.all(tells);
  }
}

function continueAsNewDue(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS;
}

/** Signals one task run; false when that run has closed. */
async function tell<Args extends unknown[]>(
  request: SlotRequest,
  signal: SignalDefinition<Args>,
  ...args: Args
): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(request.task_id, request.run_id).signal(signal, ...args);
    return true;
  } catch {
    return false;
  }
}
