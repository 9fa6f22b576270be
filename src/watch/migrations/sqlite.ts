// Versioned schema of the watcher's state in SQLite (HINDSIGHT_HOME/hindsight.db). Applied in
// order on open and by `hindsight db migrate`; each version runs once, recorded in
// watch_migrations. Stores made before versioning have the tables already: version 1 creates only
// what is missing and version 2 adds the columns they lack.
import type Database from 'better-sqlite3';

export interface SqliteMigration {
  version: number;
  name: string;
  up: (db: Database.Database) => void;
}

export const SQLITE_MIGRATIONS: SqliteMigration[] = [
  {
    version: 1,
    name: 'watch state: incidents, checkpoints, webhook deliveries, loop heartbeat',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS watch_incidents (
          id TEXT PRIMARY KEY,
          source TEXT NOT NULL,
          service TEXT,
          title TEXT NOT NULL,
          resolved_at TEXT,
          stage TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          slack_channel TEXT,
          slack_ts TEXT,
          tickets_json TEXT,
          engine TEXT,
          feedback_ts TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS watch_checkpoints (source TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS webhook_deliveries (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS watch_loop (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          cycles INTEGER NOT NULL DEFAULT 0,
          polls INTEGER NOT NULL DEFAULT 0,
          last_cycle_at INTEGER,
          last_poll_at INTEGER
        );
        INSERT OR IGNORE INTO watch_loop (id) VALUES (1);
      `),
  },
  {
    version: 2,
    name: 'stage runs counted per incident (checks, checked_at)',
    up: (db) => {
      const columns = new Set((db.prepare('PRAGMA table_info(watch_incidents)').all() as Array<{ name: string }>).map((c) => c.name));
      if (!columns.has('checks')) db.exec('ALTER TABLE watch_incidents ADD COLUMN checks INTEGER NOT NULL DEFAULT 0');
      if (!columns.has('checked_at')) db.exec('ALTER TABLE watch_incidents ADD COLUMN checked_at INTEGER');
    },
  },
];

/** Applies the versions not yet recorded, each in its own transaction; returns those applied. */
export function migrateSqlite(db: Database.Database, now = Date.now()): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS watch_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied: number[] = [];
  for (const m of SQLITE_MIGRATIONS) {
    // BEGIN IMMEDIATE: two processes opening the same file apply a version once
    const run = db.transaction(() => {
      if (db.prepare('SELECT 1 FROM watch_migrations WHERE version = ?').get(m.version)) return false;
      m.up(db);
      db.prepare('INSERT INTO watch_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now);
      return true;
    });
    if (run.immediate()) applied.push(m.version);
  }
  return applied;
}
