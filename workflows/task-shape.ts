// Which of the workflow's changes since its first release a run has. Tasks start as `codexTask`,
// whose runs have every change as their shape, with no version markers (the SDK records each
// marker with a search-attribute write, a visibility write per gate per task). Runs of
// `codexTaskWorkflow`, the type tasks started as before, keep taking each change through its
// version gate, as their histories recorded; the changes made after it have no gate there.
import { patched } from '@temporalio/workflow';

/** Mirror writes folded into the activities; search attributes upserted on change only. */
export const LEAN_ROUND_TRIPS = 'lean-round-trips';
/** A cancellation during the completion's delivery interrupts it. */
export const CANCEL_INTERRUPTS_DELIVERY = 'cancel-interrupts-delivery';
/** A turn that hit the usage or rate limit waits for the reset and runs again. */
export const QUOTA_PAUSES_TURN = 'quota-pauses-turn';
/** A run with admission limits asks the admission workflow for a slot. */
export const ADMISSION = 'admission';
/**
 * The search attributes show a completion's delivery as pending only once the delivery activity
 * reports it slow (notificationPendingSignal): most deliveries end within a second, and the upsert
 * after them shows the outcome — one visibility write instead of two. No gate: `codexTask` only.
 */
export const PENDING_SHOWN_LATE = 'pending-shown-late';

export type Change =
  | typeof LEAN_ROUND_TRIPS
  | typeof CANCEL_INTERRUPTS_DELIVERY
  | typeof QUOTA_PAUSES_TURN
  | typeof ADMISSION
  | typeof PENDING_SHOWN_LATE;

export interface TaskShape {
  has(change: Change): boolean;
}

/** `codexTask`: every change. */
export const CURRENT_SHAPE: TaskShape = { has: () => true };

/** `codexTaskWorkflow`: each change its history recorded (a version marker), none newer than the type. */
export const GATED_SHAPE: TaskShape = { has: (change) => change !== PENDING_SHOWN_LATE && patched(change) };
