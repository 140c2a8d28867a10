// One progress message per turn, edited in place, where the channel can edit (Feishu: an
// interactive card sent once, then replaced with PATCH). Throttled per turn: at most one edit every
// `minIntervalMs` (well inside Feishu's 5 edits per second per message), one request in flight,
// and a failed edit is not retried: the next one carries newer progress. Best effort by design:
// the turn's result is delivered by the workflow's completion message, which replaces this card.
import { progressKey } from '../src/contract/idempotency';
import { parseNotifyTarget } from '../src/contract/notify-target';
import type { TurnEventSink } from './turn-event-publisher';
import { buildProgressCard, emptyProgress, withEvent, type TurnProgress } from './notify/feishu-progress-card';
import { feishuUuid } from './notify/feishu-message';
import type { FeishuCall } from './notify/feishu-notifier';

/** The sink for a turn's progress message, or null when the target gets none. */
export type ProgressMessenger = (taskId: string, turn: number, notifyTarget: string | null) => TurnEventSink | null;

export function createProgressMessenger(options: { feishu?: FeishuCall; minIntervalMs?: number }): ProgressMessenger {
  const minIntervalMs = options.minIntervalMs ?? 3000;
  return (taskId, turn, notifyTarget) => {
    if (!notifyTarget || !options.feishu) return null;
    let target;
    try {
      target = parseNotifyTarget(notifyTarget);
    } catch {
      return null;
    }
    if (target.kind !== 'feishu') return null;
    const call = options.feishu;
    const chatId = target.chatId;

    let progress: TurnProgress = emptyProgress(taskId, turn);
    let messageId: string | null = null;
    let inFlight: Promise<void> | null = null;
    let timer: NodeJS.Timeout | null = null;
    let lastAt = 0;
    let shown = -1;
    let ended = false;

    const publish = () => {
      timer = null;
      if (ended || inFlight || shown === progress.events) return;
      const snapshot = progress;
      const content = JSON.stringify(buildProgressCard(snapshot));
      lastAt = Date.now();
      const request = messageId
        ? call(chatId, (client) => client.im.v1.message.patch({ path: { message_id: messageId! }, data: { content } })).then(() => undefined)
        : call(chatId, (client) =>
            client.im.v1.message.create({
              params: { receive_id_type: 'chat_id' },
              data: { receive_id: chatId, msg_type: 'interactive', content, uuid: feishuUuid(progressKey(taskId, turn)) },
            }),
          ).then((res) => {
            messageId = res.data?.message_id ?? null;
          });
      inFlight = request
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
        // No last edit: the completion message replaces the card with the result.
        ended = true;
        if (timer) clearTimeout(timer);
        if (inFlight) await Promise.race([inFlight, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      },
    };
  };
}
