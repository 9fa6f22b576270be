// Versioned schema of the watcher's shared state in PostgreSQL (HINDSIGHT_DATABASE_URL). Applied
// on start by every replica and serverless handler, and by `hindsight db migrate`; an advisory
// lock makes replicas starting together apply each version exactly once.
import type pg from 'pg';

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

export const POSTGRES_MIGRATIONS: PostgresMigration[] = [
  {
    version: 1,
    name: 'watch state with stage leases, checkpoints, webhook deliveries, loop heartbeat, shared bundles and drafts',
    sql: `
      CREATE TABLE watch_incidents (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        service TEXT,
        title TEXT NOT NULL,
        resolved_at TEXT,
        stage TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        slack_channel TEXT,
        slack_ts TEXT,
        tickets_json TEXT,
        engine TEXT,
        feedback_ts TEXT,
        checks INTEGER NOT NULL DEFAULT 0,
        checked_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until BIGINT,
        lease_token BIGINT NOT NULL DEFAULT 0,
        claims INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX watch_incidents_due ON watch_incidents (next_attempt_at, created_at) WHERE stage NOT IN ('ticketed', 'failed');
      CREATE SEQUENCE watch_lease_tokens;
      CREATE TABLE watch_checkpoints (source TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, received_at BIGINT NOT NULL);
      CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
      CREATE TABLE watch_loop (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cycles BIGINT NOT NULL DEFAULT 0,
        polls BIGINT NOT NULL DEFAULT 0,
        last_cycle_at BIGINT,
        last_poll_at BIGINT
      );
      INSERT INTO watch_loop (id) VALUES (1);
      CREATE TABLE watch_artifacts (
        incident_id TEXT PRIMARY KEY REFERENCES watch_incidents (id) ON DELETE CASCADE,
        bundle_json TEXT,
        report_json TEXT,
        markdown TEXT,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'polls taken in turns: one replica polls a source per interval',
    sql: `CREATE TABLE watch_polls (source TEXT PRIMARY KEY, last_poll_at BIGINT NOT NULL);`,
  },
];

// any constant: the key of the session-level lock serialising migrations
const MIGRATION_LOCK = 0x68696e64;

/** Applies the versions not yet recorded, in one transaction under an advisory lock; returns those applied. */
export async function migratePostgres(pool: pg.Pool, now = Date.now()): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS watch_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM watch_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of POSTGRES_MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO watch_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
