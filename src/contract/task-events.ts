// What a running turn is doing, as a stream of small events: the Codex activity publishes them (to
// the store's task_events collection, not to Temporal's history), and `codex-bridge logs`, the
// API's event stream and progress messages read them. Pure: no Node APIs.

export type TaskEventKind =
  'turn_started' | 'item_started' | 'item_completed' | 'plan_updated' | 'tokens' | 'reply_steered' | 'turn_ended';

export interface TaskEvent {
  /** 1, 2, 3… within the turn (and attempt): readers print what is newer than what they have. */
  seq: number;
  /** When the worker saw it (ISO-8601). */
  at: string;
  turn: number;
  kind: TaskEventKind;
  /** One line for people: "$ npm test", "edited src/a.ts", "plan: 2/5 steps done". */
  text: string;
  /** The item's type for item events (commandExecution, fileChange, agentMessage…). */
  item_type?: string;
}

/** The recent events of a task's latest turn, as the store keeps them (one document per task). */
export interface TaskEventLog {
  task_id: string;
  turn: number;
  attempt: number;
  /** The last events, oldest first, at most a few hundred. */
  events: TaskEvent[];
  /** The turn is over: nothing more will be added. */
  ended: boolean;
  updated_at: string;
}
