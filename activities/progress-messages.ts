// One progress message per turn, where the channel can show one: Feishu gets an interactive card
// sent once and then replaced with PATCH (edited in place); a `webhook:` target gets `progress`
// events carrying the message key its completion will carry too, so a receiver can upsert one
// message. Throttled per turn: at most one request every `minIntervalMs` (well inside Feishu's 5
// edits per second per message), one in flight, and a failed one is not retried: the next carries
// newer progress. Best effort by design: the turn's result is the workflow's completion message.
// Channels that cannot edit (Hermes, local) get none by default, or milestones when configured
// (milestone-messages.ts).
import { progressKey } from '../src/contract/idempotency';
import { parseNotifyTarget, type NotifyTarget } from '../src/contract/notify-target';
import type { TurnEventSink } from './turn-event-publisher';
import { buildProgressCard, emptyProgress, withEvent, type TurnProgress } from './notify/feishu-progress-card';
import { feishuUuid } from './notify/feishu-message';
import type { FeishuCall } from './notify/feishu-notifier';
import { postRaw, signTimestamped } from './notify/http-post';
import { milestoneSink, type MilestoneOptions } from './milestone-messages';

/** The sink for a turn's progress message, or null when the target gets none. */
export type ProgressMessenger = (taskId: string, turn: number, notifyTarget: string | null) => TurnEventSink | null;

export const WEBHOOK_PROGRESS_EVENT = 'codex_bridge.progress';

export interface ProgressMessengerOptions {
  /** Feishu cards, edited in place. */
  feishu?: FeishuCall;
  /** Webhook `progress` events (CODEX_BRIDGE_WEBHOOK_SECRET signs them like every webhook POST). */
  webhook?: { secret?: string; timeoutMs: number };
  minIntervalMs?: number;
  /** Targets (as the task names them) that get no progress. */
  optOut?: readonly string[];
  /** Separate milestone messages for these channels' targets, which cannot edit a message. */
  milestones?: MilestoneOptions & { channels: readonly ('hermes' | 'local')[] };
}

export function createProgressMessenger(options: ProgressMessengerOptions): ProgressMessenger {
  const minIntervalMs = options.minIntervalMs ?? 3000;
  return (taskId, turn, notifyTarget) => {
    let target: NotifyTarget;
    try {
      if (!notifyTarget || options.optOut?.includes(notifyTarget)) return null;
      target = parseNotifyTarget(notifyTarget);
    } catch {
      return null;
    }
    const feishu = options.feishu;
    if (target.kind === 'feishu' && feishu)
      return throttled(taskId, turn, minIntervalMs, feishuCard(feishu, target.chatId, taskId, turn));
    if (target.kind === 'webhook' && options.webhook)
      return throttled(taskId, turn, minIntervalMs, webhookEvents(options.webhook, target.url, taskId, turn));
    const milestones = options.milestones;
    if ((target.kind === 'hermes' || target.kind === 'local') && milestones?.channels.includes(target.kind))
      return milestoneSink(milestones, target, taskId, turn);
    return null;
  };
}

/** Shows the latest progress in one message: the first call creates it, later ones replace it. */
type Show = (progress: TurnProgress) => Promise<void>;

function feishuCard(call: FeishuCall, chatId: string, taskId: string, turn: number): Show {
  let messageId: string | null = null;
  return async (progress) => {
    const content = JSON.stringify(buildProgressCard(progress));
    if (messageId) {
      const id = messageId;
      await call(chatId, (client) => client.im.v1.message.patch({ path: { message_id: id }, data: { content } }));
      return;
    }
    // The uuid names the turn's card: a repeat finds it, and the completion replaces it.
    const res = await call(chatId, (client) =>
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: chatId, msg_type: 'interactive', content, uuid: feishuUuid(progressKey(taskId, turn)) },
      }),
    );
    messageId = res.data?.message_id ?? null;
  };
}

function webhookEvents(
  options: { secret?: string; timeoutMs: number },
  url: string,
  taskId: string,
  turn: number,
): Show {
  const messageKey = progressKey(taskId, turn);
  return async (p) => {
    const body = JSON.stringify({
      event: WEBHOOK_PROGRESS_EVENT,
      message_key: messageKey,
      task_id: taskId,
      turn,
      seq: p.events,
      progress: { current: p.current, plan: p.plan, commands: p.commands, files: p.files, tokens: p.tokens },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'idempotency-key': `${messageKey}:${p.events}`,
      'x-codex-bridge-timestamp': timestamp,
    };
    if (options.secret) headers['x-codex-bridge-signature'] = signTimestamped(options.secret, timestamp, body);
    const answer = await postRaw(url, body, headers, options.timeoutMs);
    if (answer.status >= 300) throw new Error(`HTTP ${answer.status}`);
  };
}

function throttled(taskId: string, turn: number, minIntervalMs: number, show: Show): TurnEventSink {
  let progress = emptyProgress(taskId, turn);
  let inFlight: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastAt = 0;
  let shown = -1;
  let ended = false;

  const publish = () => {
    timer = null;
    if (ended || inFlight || shown === progress.events) return;
    const snapshot = progress;
    lastAt = Date.now();
    inFlight = show(snapshot)
      .then(() => {
        shown = snapshot.events;
      })
      .catch(() => undefined)
      .finally(() => {
        inFlight = null;
        schedule();
      });
  };
  const schedule = () => {
    if (ended || timer || inFlight || shown === progress.events) return;
    timer = setTimeout(publish, Math.max(0, lastAt + minIntervalMs - Date.now()));
  };

  return {
    push(event) {
      if (ended) return;
      progress = withEvent(progress, event);
      schedule();
    },
    async end() {
      // No last progress: the completion message replaces it with the result.
      ended = true;
      if (timer) clearTimeout(timer);
      if (inFlight) await Promise.race([inFlight, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    },
  };
}
