// Which errors are retried: the one table. Activities throw ApplicationFailure with these types;
// the workflow's retry policies list the non-retryable ones. Pure, so workflow code imports it.

/** The workflow input itself is malformed (the edges validate first; this guards hand-started runs). */
export const INVALID_TASK_INPUT = 'InvalidTaskInput';

/** The errors the Codex activity throws, and whether another attempt could help. */
export const CODEX_ERROR_TYPES = {
  /** CODEX_BIN (or the @openai/codex dependency's binary) is missing or not executable. */
  CodexBinaryMissing: { retryable: false },
  /** The task's cwd does not exist or is not a directory. */
  CwdMissing: { retryable: false },
  /** The task's cwd is outside CODEX_BRIDGE_ALLOWED_ROOTS. */
  CwdNotAllowed: { retryable: false },
  /** Codex refused its configuration (CODEX_BRIDGE_CODEX_CONFIG, CODEX_HOME/config.toml, model provider). */
  InvalidCodexConfig: { retryable: false },
  /** A follow-up names a thread this CODEX_HOME does not have (no rollout found). */
  CodexThreadNotFound: { retryable: false },
  /** The app-server crashed, exited or broke the protocol mid-turn: another attempt may succeed. */
  CodexAppServerFailed: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

/** Codex failures a person must fix before a retry could help (the workflow's nonRetryableErrorTypes). */
export const CODEX_NON_RETRYABLE_TYPES: readonly string[] = [
  ...Object.entries(CODEX_ERROR_TYPES)
    .filter(([, { retryable }]) => !retryable)
    .map(([type]) => type),
  INVALID_TASK_INPUT,
];

/** The channel refused the message for good (bot not in chat, bad chat id, bad credentials…). */
export const NOTIFICATION_REJECTED = 'NotificationRejected';
/** The channel asked us to come back later (rate limit, 5xx, network): retried with backoff. */
export const NOTIFICATION_DEFERRED = 'NotificationDeferred';

export const NOTIFY_NON_RETRYABLE_TYPES = [NOTIFICATION_REJECTED] as const;
