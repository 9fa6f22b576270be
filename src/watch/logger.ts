// Structured JSON logs (pino) on stderr, one line per event, with the incident id and stage as
// fields. Every finished line passes through the secret redactor (message, fields and serialised
// errors alike); credentials are never logged.
import pino from 'pino';
import { redactSecrets } from '../core/redact.js';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.HINDSIGHT_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { app: 'hindsight' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', 'apiKey', 'password', '*.token', '*.apiKey', 'headers.authorization'], censor: '[REDACTED]' },
      hooks: { streamWrite: redactLine },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
  return value;
}

/** One serialised log line, every string value redacted (the line stays valid JSON). */
function redactLine(line: string): string {
  try {
    return `${JSON.stringify(scrub(JSON.parse(line)))}\n`;
  } catch {
    return redactSecrets(line);
  }
}
