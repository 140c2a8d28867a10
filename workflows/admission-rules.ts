// The admission queue's rules as plain functions: which queued runs may start now, and where each
// queued run stands. First come, first served within every limit; a run held back by its
// repository or notify target does not hold back a later one that fits.
import type { AdmissionLimits, SlotRequest } from '../src/contract/admission';

/** The runs to start now, in queue order. */
export function nextAdmissions(queued: readonly SlotRequest[], running: readonly SlotRequest[]): SlotRequest[] {
  const active = [...running];
  const admitted: SlotRequest[] = [];
  for (const request of queued) {
    if (!fits(request, request.limits, active)) {
      if (full(request.limits, active)) break;
      continue;
    }
    admitted.push(request);
    active.push(request);
  }
  return admitted;
}

/** How many queued runs are ahead of each queued run (its index in the queue). */
export function queuePositions(queued: readonly SlotRequest[]): Map<string, number> {
  return new Map(queued.map((request, ahead) => [holderKey(request), ahead]));
}

/** A run's key: a follow-up turn of the same task is another run. */
export function holderKey(request: Pick<SlotRequest, 'task_id' | 'run_id'>): string {
  return `${request.task_id}/${request.run_id}`;
}

/**
 * A request joins the queue unless the same run already asked (a retried activity); a request of
 * another run of the same task replaces the earlier run's place or slot, since only one run of a
 * workflow id is open at a time: the earlier one has closed without giving its slot back.
 */
export function withRequest(
  queued: readonly SlotRequest[],
  running: readonly SlotRequest[],
  request: SlotRequest,
): { queued: SlotRequest[]; running: SlotRequest[]; added: boolean } {
  const same = (r: SlotRequest) => r.task_id === request.task_id && r.run_id === request.run_id;
  if (queued.some(same) || running.some(same)) return { queued: [...queued], running: [...running], added: false };
  const otherRun = (r: SlotRequest) => r.task_id !== request.task_id;
  return { queued: [...queued.filter(otherRun), request], running: running.filter(otherRun), added: true };
}

function full(limits: AdmissionLimits, active: readonly SlotRequest[]): boolean {
  return limits.max_running > 0 && active.length >= limits.max_running;
}

function fits(request: SlotRequest, limits: AdmissionLimits, active: readonly SlotRequest[]): boolean {
  if (full(limits, active)) return false;
  const count = (same: (r: SlotRequest) => boolean) => active.filter(same).length;
  if (
    limits.per_repository > 0 &&
    request.repository !== null &&
    count((r) => r.repository === request.repository) >= limits.per_repository
  )
    return false;
  if (
    limits.per_notify_target > 0 &&
    request.notify_target !== null &&
    count((r) => r.notify_target === request.notify_target) >= limits.per_notify_target
  )
    return false;
  return true;
}
