// When Codex's usage limit resets. Codex reports a usage-limit failure as codexErrorInfo
// `usageLimitExceeded` with a message such as "… or try again at 10:21 PM." (or "… at Dec 1st,
// 2026 9:05 AM." when the reset is not today): the backend's `resets_at` formatted in the local
// time zone of the app-server, to the minute. This reads that time back; null when it cannot.
import type { CodexTurnResult } from '../../src/contract/codex-turn';

/** The turn-error types that mean "out of quota for now", not "this task cannot work". */
export const QUOTA_ERROR_TYPES = ['usageLimitExceeded', 'rateLimitExceeded'] as const;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const AT =
  /try again at (?:([A-Za-z]{3})[a-z]* (\d{1,2})(?:st|nd|rd|th)?,? (?:(\d{4}) )?)?(\d{1,2}):(\d{2})\s*([AaPp][Mm])?/;

/**
 * The end of the minute Codex names (the reset lies within it), as a Date in this process's time
 * zone, which is the app-server's. A time without a date is the next such time after `now`.
 */
export function parseUsageLimitReset(message: string, now: Date = new Date()): Date | null {
  const m = AT.exec(message);
  if (!m) return null;
  let hour = Number(m[4]);
  const minute = Number(m[5]);
  const meridiem = m[6]?.toLowerCase();
  if (meridiem) hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  if (hour > 23 || minute > 59) return null;
  const at = new Date(now);
  at.setSeconds(0, 0);
  at.setHours(hour, minute);
  if (m[1]) {
    const month = MONTHS.indexOf(m[1].toLowerCase());
    if (month < 0) return null;
    at.setFullYear(m[3] ? Number(m[3]) : now.getFullYear(), month, Number(m[2]));
    if (!m[3] && at.getTime() < now.getTime() - 24 * 60 * 60_000) at.setFullYear(at.getFullYear() + 1);
  } else if (at.getTime() + 60_000 <= now.getTime()) {
    at.setDate(at.getDate() + 1);
  }
  return new Date(at.getTime() + 60_000);
}

/** Adds `quota_resets_at` to a result that failed on the usage or rate limit. */
export function withQuotaReset(result: CodexTurnResult, now: Date = new Date()): CodexTurnResult {
  const error = result.error;
  if (!error || !(QUOTA_ERROR_TYPES as readonly string[]).includes(error.type)) return result;
  const reset = parseUsageLimitReset(error.message, now);
  return { ...result, quota_resets_at: reset ? reset.toISOString() : null };
}
