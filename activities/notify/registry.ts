// The one Notifier the worker and the repair watcher use: dispatches on the target's kind to the
// channel's notifier. Channels are built on first use, so a deployment that only uses `local`
// needs no Feishu or Hermes settings; a channel used without its settings fails with a
// non-retryable NotifyError naming the variable to set.
import type { Config } from '../../src/config';
import type { NotifyTargetKind } from '../../src/contract/notify-target';
import { createFeishuNotifier } from './feishu-notifier';
import { createHermesNotifier } from './hermes-notifier';
import { createLocalNotifier } from './local-notifier';
import type { Notifier } from './notifier';
import { createWebhookNotifier } from './webhook-notifier';

export interface NotifierRegistryOptions {
  /** Where the local channel logs its one line per message (default: stderr). */
  log?: (line: string) => void;
  now?: () => Date;
}

export function createNotifier(config: Config, opts: NotifierRegistryOptions = {}): Notifier {
  const n = config.notifiers;
  const factories: Record<NotifyTargetKind, () => Notifier> = {
    local: () => createLocalNotifier({ inboxPath: n.localInbox, log: opts.log, now: opts.now }),
    feishu: () =>
      createFeishuNotifier({
        appId: n.feishu.appId,
        appSecret: n.feishu.appSecret,
        baseUrl: n.feishu.baseUrl,
        timeoutMs: n.timeoutMs,
        now: opts.now,
        progressCards: n.progress.feishu,
      }),
    hermes: () => createHermesNotifier({ ...n.hermes, now: opts.now }),
    webhook: () => createWebhookNotifier({ secret: n.webhook.secret, timeoutMs: n.timeoutMs, now: opts.now }),
  };
  const built = new Map<NotifyTargetKind, Notifier>();

  return (target, message, idempotencyKey, options) => {
    let channel = built.get(target.kind);
    if (!channel) {
      channel = factories[target.kind]();
      built.set(target.kind, channel);
    }
    return channel(target, message, idempotencyKey, options);
  };
}
