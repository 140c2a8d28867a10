// Secrets never leave through a notification. Codex output routinely echoes environment files,
// curl commands and config snippets, and a chat message is read by more people than the task log,
// so every string a notifier sends passes through redact() first.
import type { NotificationMessage } from './notifier';

export const REDACTED = '[redacted]';

/**
 * Each rule replaces what matched with `[redacted]`, keeping the label in front of a secret
 * (`Bearer`, `api_key=`) so a reader still sees what was there. Order matters: whole PEM blocks
 * first, so the key lines inside are not matched piecemeal.
 */
const RULES: { name: string; pattern: RegExp; keep?: number }[] = [
  // PEM private keys; a block cut off before its END line is redacted to the end of the text.
  {
    name: 'pem-private-key',
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  },
  // OpenAI / Anthropic style keys: sk-…, sk-proj-…, sk-ant-…
  { name: 'sk-key', pattern: /\bsk-[A-Za-z0-9_-]{16,}/g },
  // GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained PATs.
  { name: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  // Slack tokens: xoxb-, xoxp-, xoxa-, xoxo-, xoxr-, xoxs-, xoxe-
  { name: 'slack-token', pattern: /\bxox[abeoprs]-[A-Za-z0-9-]{8,}/g },
  // AWS access key ids (long-term AKIA…, temporary ASIA…).
  { name: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  // JSON Web Tokens (three base64url parts, the first two starting with '{"' encoded).
  { name: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  // Authorization: Bearer <token> (also Basic credentials).
  { name: 'bearer', pattern: /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi, keep: 2 },
  // user:password@ in URLs.
  { name: 'url-credentials', pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+)(:)[^\s@/]+(?=@)/gi, keep: 2 },
  // password=…, "password": "…" — any non-empty value: short passwords are still passwords.
  {
    name: 'password-assignment',
    pattern: /\b([A-Za-z0-9_-]*(?:password|passwd|pwd)["']?)(\s*[:=]\s*["']?)[^\s"'&,;]{3,}/gi,
    keep: 2,
  },
  // key=…, token=…, secret=… — only values that look machine-made (long hex/base64), so prose like
  // "token: the next one" stays readable.
  {
    name: 'secret-assignment',
    pattern: /\b([A-Za-z0-9_-]*(?:key|token|secret|credential)s?["']?)(\s*[:=]\s*["']?)[A-Za-z0-9+/_.=-]{16,}/gi,
    keep: 2,
  },
];

/** Returns `text` with every secret-looking token replaced by `[redacted]`. Idempotent. */
export function redact(text: string): string {
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...groups: unknown[]) => {
      const kept = rule.keep
        ? (groups.slice(1, 1 + rule.keep) as (string | undefined)[]).map((g) => g ?? '').join('')
        : '';
      return `${kept}${REDACTED}`;
    });
  }
  return out;
}

/** The message with redact() applied to every string a channel may show. */
export function redactMessage(message: NotificationMessage): NotificationMessage {
  return {
    ...message,
    title: redact(message.title),
    text: redact(message.text),
    fields: message.fields.map((f) => ({ label: f.label, value: redact(f.value) })),
    ...(message.excerpt !== undefined ? { excerpt: redact(message.excerpt) } : {}),
  };
}
