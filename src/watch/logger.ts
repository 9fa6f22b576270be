// Structured JSON logs (pino) on stderr, one line per event, with the incident id and stage as
// fields. Messages pass through the secret redactor; credentials are never logged.
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
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
