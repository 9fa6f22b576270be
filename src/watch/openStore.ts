// Which state store the watcher uses: PostgreSQL when a database URL is configured
// (--database-url or HINDSIGHT_DATABASE_URL), else SQLite in HINDSIGHT_HOME (the default).
import { isPostgresUrl, PostgresWatchStore } from './postgresWatchStore.js';
import type { WatchStore } from './watchStore.js';

export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    // cli.ts answers ConfigError with exit 2 and one line
    this.name = 'ConfigError';
  }
}

export function databaseUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const url = (flag ?? env.HINDSIGHT_DATABASE_URL ?? '').trim();
  if (!url) return null;
  if (!isPostgresUrl(url)) throw new DatabaseUrlError(`${flag !== undefined ? '--database-url' : 'HINDSIGHT_DATABASE_URL'}: expected postgres://… or postgresql://…`);
  return url;
}

export async function openWatchStore(opts: { home: string; databaseUrl: string | null; poolSize?: number }): Promise<WatchStore> {
  if (opts.databaseUrl) return PostgresWatchStore.open(opts.databaseUrl, { max: opts.poolSize });
  // loaded only when used: the serverless entry never needs SQLite's native module
  const { SqliteWatchStore } = await import('./sqliteWatchStore.js');
  return new SqliteWatchStore(opts.home);
}
