// Which errors are retried: the one table. Activities throw ApplicationFailure with these types;
// the workflow's retry policies list the non-retryable ones. Pure, so workflow code imports it.

/** Codex failures a person must fix before a retry could help. */
export const CODEX_NON_RETRYABLE_TYPES = ['CodexBinaryMissing', 'CwdMissing', 'CwdNotAllowed', 'InvalidCodexConfig', 'CodexThreadNotFound', 'InvalidTaskInput'] as const;

/** The channel refused the message for good (bot not in chat, bad chat id, bad credentials…). */
export const NOTIFICATION_REJECTED = 'NotificationRejected';
/** The channel asked us to come back later (rate limit, 5xx, network): retried with backoff. */
export const NOTIFICATION_DEFERRED = 'NotificationDeferred';

export const NOTIFY_NON_RETRYABLE_TYPES = [NOTIFICATION_REJECTED] as const;

/** The workflow input itself is malformed (the edges validate first; this guards hand-started runs). */
export const INVALID_TASK_INPUT = 'InvalidTaskInput';
