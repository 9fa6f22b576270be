// Every vendor keeps its own clock format in the bundle; everything downstream works in epoch
// milliseconds (integers, sub-millisecond parts truncated) and prints ISO-8601 UTC with three
// fractional digits.

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses an ISO-8601 date-time with any offset; a missing offset means UTC. Null when invalid. */
const d = (s: string, i: number) => s.charCodeAt(i) - 48;

/** "2024-05-20T14:02:13.412Z", the common case of logs, without a regex. */
function fastUtcMs(s: string): number | null {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 || s.charCodeAt(10) !== 84 || s.charCodeAt(19) !== 46) return null;
  const y = d(s, 0) * 1000 + d(s, 1) * 100 + d(s, 2) * 10 + d(s, 3);
  const mo = d(s, 5) * 10 + d(s, 6);
  const day = d(s, 8) * 10 + d(s, 9);
  const h = d(s, 11) * 10 + d(s, 12);
  const mi = d(s, 14) * 10 + d(s, 15);
  const sec = d(s, 17) * 10 + d(s, 18);
  const ms = d(s, 20) * 100 + d(s, 21) * 10 + d(s, 22);
  if (!(mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h <= 23 && mi <= 59 && sec <= 59 && ms >= 0 && ms <= 999 && y >= 0)) return null;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  return Date.UTC(y, mo - 1, day, h, mi, sec, ms);
}

export function parseIsoMs(text: string): number | null {
  const fast = fastUtcMs(text);
  if (fast !== null) return fast;
  const m = ISO_RE.exec(text.trim());
  if (!m) {
    const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
    if (!dateOnly) return null;
    const ms = Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]));
    return Number.isFinite(ms) ? ms : null;
  }
  const [, y, mo, d, h, mi, s, frac, off] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  // Truncate, never round: "…13.4129" is 13.412.
  const millis = frac === undefined ? 0 : Number((frac + '00').slice(0, 3));
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second, millis);
  if (off && off !== 'Z' && off !== 'z') {
    const sign = off[0] === '-' ? -1 : 1;
    const digits = off.slice(1).replace(':', '');
    const offMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    ms -= sign * offMinutes * 60_000;
  }
  return Number.isFinite(ms) ? ms : null;
}

/** Slack `ts`: epoch seconds as a string with microseconds ("1716213751.123456"). */
export function parseSlackTsMs(ts: string): number | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(ts.trim());
  if (!m) return null;
  const millis = m[2] === undefined ? 0 : Number((m[2] + '000').slice(0, 3));
  return Number(m[1]) * 1000 + millis;
}

/** Epoch seconds (Datadog `date_happened`, New Relic `*TimeSeconds`); fractions are truncated to ms. */
export function epochSecondsToMs(seconds: number): number {
  return Math.trunc(seconds * 1000 + (seconds >= 0 ? 1e-6 : -1e-6));
}

/** Epoch milliseconds possibly carrying a fraction (Datadog `pointlist`). */
export function epochMsToMs(ms: number): number {
  return Math.trunc(ms);
}

/**
 * Best effort for a value of unknown shape: ISO strings, Slack-style numeric strings and numbers
 * (seconds below 1e11, milliseconds above: 1e11 s is the year 5138, 1e11 ms is 1973).
 */
export function parseAnyTimeMs(value: unknown): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return Math.abs(value) < 1e11 ? epochSecondsToMs(value) : epochMsToMs(value);
  }
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) {
    const n = Number(value);
    return n < 1e11 ? parseSlackTsMs(value) : Math.trunc(n);
  }
  return parseIsoMs(value);
}

/** UTC ISO-8601 with exactly three fractional digits. */
export function formatMs(ms: number): string {
  return new Date(Math.trunc(ms)).toISOString();
}

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${abs} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(1)} s`;
  const totalMinutes = Math.floor(abs / 60_000);
  const seconds = Math.floor((abs % 60_000) / 1000);
  if (totalMinutes < 60) return seconds ? `${totalMinutes} min ${seconds} s` : `${totalMinutes} min`;
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
}

/** "14:02:13Z" style clock time for prose. */
export function clockTime(ms: number): string {
  return formatMs(ms).slice(11, 19) + 'Z';
}
