// The worker's activities, built from their dependencies. The worker is the one place that builds
// the real ones (Codex runner, notifier registry, MongoDB store); tests inject fakes here.
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskDocument } from '../src/contract/task';
import type { CodexTurnInput, CodexTurnResult } from '../src/contract/codex-turn';
import { createDeliverNotificationActivity, type DeliverNotificationInput, type DeliverNotificationResult } from './notify/deliver-notification';
import type { Notifier } from './notify/notifier';
import { createWorktreeActivities, type WorktreeSettings } from './workspace/git-worktree';

/** What mirrorTask needs of the store. */
export interface TaskMirror {
  applyMirror(doc: TaskDocument): Promise<'applied' | 'stale'>;
}

/** Hooks for metrics: each delivery attempt's outcome. */
export interface DeliveryObserver {
  delivered?(input: DeliverNotificationInput, result: DeliverNotificationResult): void;
  failed?(input: DeliverNotificationInput, error: Error): void;
}

export interface ActivityDeps {
  /** Runs one Codex turn: the real app-server activity, or a stand-in in tests and benchmarks. */
  runCodexTurn: (input: CodexTurnInput) => Promise<CodexTurnResult>;
  notifier: Notifier;
  store: TaskMirror;
  uiUrl?: string;
  namespace?: string;
  observer?: DeliveryObserver;
  /** Where worktree tasks get their worktrees; default: none configured (the worker passes the config's). */
  worktrees?: WorktreeSettings;
  /** After each mirror write (metrics). */
  onMirrored?(doc: TaskDocument, outcome: 'applied' | 'stale'): void;
}

export function createActivities(deps: ActivityDeps) {
  const deliver = createDeliverNotificationActivity({ notifier: deps.notifier, uiUrl: deps.uiUrl, namespace: deps.namespace });
  return {
    runCodexTurn: deps.runCodexTurn,
    ...createWorktreeActivities(deps.worktrees ?? { root: defaultWorktreeRoot(), retentionMs: 0 }),

    /** Delivers one message; a retry uses the same idempotency key, so it never posts twice. */
    async deliverNotification(input: DeliverNotificationInput): Promise<DeliverNotificationResult> {
      try {
        const result = await deliver(input);
        deps.observer?.delivered?.(input, result);
        return result;
      } catch (err) {
        deps.observer?.failed?.(input, err as Error);
        throw err;
      }
    },

    /** Writes the task document to MongoDB; the store ignores stale writes. */
    async mirrorTask(doc: TaskDocument): Promise<void> {
      const outcome = await deps.store.applyMirror(doc);
      deps.onMirrored?.(doc, outcome);
    },
  };
}

function defaultWorktreeRoot(): string {
  return path.join(os.homedir(), '.codex-bridge', 'worktrees');
}
