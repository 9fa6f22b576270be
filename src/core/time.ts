// Every vendor keeps its own clock format in the bundle; everything downstream works in epoch
// milliseconds (integers, sub-millisecond parts truncated) and prints ISO-8601 UTC with three
// fractional digits.

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses an ISO-8601 date-time with any offset; a missing offset means UTC. Null when invalid. */
export function parseIsoMs(text: string): number | null {
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
