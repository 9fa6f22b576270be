// The watcher's state in PostgreSQL, shared by any number of replicas (and the serverless webhook
// entry). Leader-free: every replica polls and claims. A stage is claimed with a lease
// (SELECT … FOR UPDATE SKIP LOCKED, an expiry, and a fencing token from a sequence); every write of
// the stage's outcome is conditional on that token, so a replica that lost its lease (paused,
// partitioned, killed and restarted) cannot overwrite the outcome of the replica that took over.
// The bundle and the draft live here too, so the replica running a stage finds what another
// replica's earlier stage produced.
import pg from 'pg';
import type { Bundle } from '../core/bundle.js';
import type { Report } from '../core/report.js';
import { migratePostgres } from './migrations/postgres.js';
import {
  DELIVERY_MEMORY_MS,
  fromRow,
  LeaseLost,
  retryDelay,
  type Artifacts,
  type Claim,
  type FailPolicy,
  type IncidentSighting,
  type Row,
  type Stage,
  type StageFields,
  type WatchedIncident,
  type WatcherState,
  type WatchStore,
} from './watchStore.js';

const INT8 = 20;
// BIGINT columns hold epoch milliseconds and counters: well inside Number's exact range
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** postgres://user:secret@host/db -> postgres://user:***@host/db, for logs and errors. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** "token = $n" when fenced; true otherwise. */
const fence = (token: number | undefined, n: number) => (token === undefined ? 'TRUE' : `lease_token = $${n} AND lease_owner IS NOT NULL`);

export class PostgresWatchStore implements WatchStore {
  readonly backend = 'postgres' as const;
  readonly sharesArtifacts = true;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and applies pending migrations (every replica does; the first one applies them). */
  static async open(url: string, opts: { max?: number; migrate?: boolean } = {}): Promise<PostgresWatchStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4, types, connectionTimeoutMillis: 10_000 });
    // a client that loses its server (restart, failover) must not crash the process, idle or
    // checked out between two queries; the failed query rejects and the next one reconnects
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const store = new PostgresWatchStore(pool);
    try {
      if (opts.migrate !== false) await migratePostgres(pool);
      else await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`PostgreSQL at ${describeDatabaseUrl(url)}: ${(err as Error).message}`);
    }
    return store;
  }

  async migrate(): Promise<number[]> {
    return migratePostgres(this.pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async enqueue(incident: IncidentSighting, now = Date.now()): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO watch_incidents (id, source, service, title, resolved_at, stage, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'seen', $6, $6) ON CONFLICT (id) DO NOTHING`,
      [incident.id, incident.source, incident.service, incident.title, incident.resolvedAt, now],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async get(id: string): Promise<WatchedIncident | null> {
    const r = await this.pool.query<Row>('SELECT * FROM watch_incidents WHERE id = $1', [id]);
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  }

  async list(): Promise<WatchedIncident[]> {
    return (await this.pool.query<Row>('SELECT * FROM watch_incidents ORDER BY created_at DESC, id')).rows.map(fromRow);
  }

  async due(now = Date.now()): Promise<WatchedIncident[]> {
    const r = await this.pool.query<Row>(
      `SELECT * FROM watch_incidents WHERE stage NOT IN ('ticketed', 'failed') AND next_attempt_at <= $1 ORDER BY created_at, id`,
      [now],
    );
    return r.rows.map(fromRow);
  }

  async claim(owner: string, opts: { leaseMs: number; exclude?: readonly string[] }, now = Date.now()): Promise<Claim | null> {
    // One statement: the row lock of FOR UPDATE is held until the lease is written, and rows
    // locked by another replica's claim in flight are skipped rather than waited for.
    const r = await this.pool.query<Row & { lease_token: number }>(
      `WITH next AS (
         SELECT id FROM watch_incidents
         WHERE stage NOT IN ('ticketed', 'failed') AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1) AND NOT (id = ANY($4::text[]))
         ORDER BY next_attempt_at, created_at, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
       UPDATE watch_incidents w SET lease_owner = $2, lease_until = $1 + $3, lease_token = nextval('watch_lease_tokens'), claims = claims + 1
       FROM next WHERE w.id = next.id
       RETURNING w.*`,
      [now, owner, opts.leaseMs, [...(opts.exclude ?? [])]],
    );
    const row = r.rows[0];
    return row ? { incident: fromRow(row), token: row.lease_token } : null;
  }

  async renew(claim: Claim, leaseMs: number, now = Date.now()): Promise<boolean> {
    const r = await this.pool.query('UPDATE watch_incidents SET lease_until = $3 WHERE id = $1 AND lease_token = $2 AND lease_owner IS NOT NULL', [
      claim.incident.id,
      claim.token,
      now + leaseMs,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  private async fenced(id: string, token: number | undefined, sql: string, params: unknown[]): Promise<void> {
    const r = await this.pool.query(sql, params);
    if ((r.rowCount ?? 0) > 0) return;
    if (token !== undefined && (await this.get(id))) throw new LeaseLost(id);
    throw new Error(`unknown watched incident ${id}`);
  }

  async advance(id: string, stage: Stage, fields: StageFields = {}, now = Date.now(), token?: number): Promise<void> {
    // COALESCE keeps what earlier stages recorded, like the SQLite store's `?? current`
    await this.fenced(
      id,
      token,
      `UPDATE watch_incidents SET stage = $2, attempts = 0, next_attempt_at = 0, last_error = NULL,
         slack_channel = COALESCE($3, slack_channel), slack_ts = COALESCE($4, slack_ts), tickets_json = COALESCE($5, tickets_json),
         engine = COALESCE($6, engine), feedback_ts = COALESCE($7, feedback_ts), checks = checks + 1, checked_at = $8, updated_at = $8,
         lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND ${fence(token, 9)}`,
      [id, stage, fields.slackChannel ?? null, fields.slackTs ?? null, fields.tickets ? JSON.stringify(fields.tickets) : null, fields.engine ?? null, fields.feedbackTs ?? null, now, ...(token === undefined ? [] : [token])],
    );
  }

  async snooze(id: string, untilMs: number, fields: Partial<Pick<WatchedIncident, 'feedbackTs' | 'engine'>> = {}, now = Date.now(), token?: number): Promise<void> {
    await this.fenced(
      id,
      token,
      `UPDATE watch_incidents SET next_attempt_at = $2, feedback_ts = COALESCE($3, feedback_ts), engine = COALESCE($4, engine),
         checks = checks + 1, checked_at = $5, updated_at = $5, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND ${fence(token, 6)}`,
      [id, untilMs, fields.feedbackTs ?? null, fields.engine ?? null, now, ...(token === undefined ? [] : [token])],
    );
  }

  async fail(id: string, error: string, opts: FailPolicy, now = Date.now(), token?: number): Promise<WatchedIncident> {
    const current = await this.get(id);
    if (!current) throw new Error(`unknown watched incident ${id}`);
    // attempts + 1 in SQL too: the count read above only sets the delay
    const attempts = current.attempts + 1;
    await this.fenced(
      id,
      token,
      `UPDATE watch_incidents SET stage = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE stage END, attempts = attempts + 1,
         next_attempt_at = $3, last_error = $4, checks = checks + 1, checked_at = $5, updated_at = $5, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND ${fence(token, 6)}`,
      [id, opts.maxAttempts, now + retryDelay(attempts, opts), error.slice(0, 500), now, ...(token === undefined ? [] : [token])],
    );
    return (await this.get(id))!;
  }

  /** Claims that ended without an outcome (the replica died or lost its lease): a measure of takeovers. */
  async abandonedClaims(): Promise<number> {
    const r = await this.pool.query<{ n: number }>('SELECT COALESCE(SUM(claims - checks), 0)::int AS n FROM watch_incidents WHERE lease_owner IS NULL');
    return r.rows[0]!.n;
  }

  async retryFailed(now = Date.now()): Promise<number> {
    const r = await this.pool.query(`UPDATE watch_incidents SET stage = 'seen', attempts = 0, next_attempt_at = 0, updated_at = $1 WHERE stage = 'failed'`, [now]);
    return r.rowCount ?? 0;
  }

  async recordCycle(polled: boolean, now = Date.now()): Promise<void> {
    await this.pool.query(
      'UPDATE watch_loop SET cycles = cycles + 1, last_cycle_at = $1, polls = polls + $2, last_poll_at = CASE WHEN $2 > 0 THEN $1 ELSE last_poll_at END WHERE id = 1',
      [now, polled ? 1 : 0],
    );
  }

  async watcher(): Promise<WatcherState> {
    const r = await this.pool.query<{ cycles: number; polls: number; last_cycle_at: number | null; last_poll_at: number | null }>(
      'SELECT cycles, polls, last_cycle_at, last_poll_at FROM watch_loop WHERE id = 1',
    );
    const row = r.rows[0];
    return { cycles: row?.cycles ?? 0, polls: row?.polls ?? 0, lastCycleAt: row?.last_cycle_at ?? null, lastPollAt: row?.last_poll_at ?? null };
  }

  async claimPoll(source: string, intervalMs: number, now = Date.now()): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO watch_polls (source, last_poll_at) VALUES ($1, $2)
       ON CONFLICT (source) DO UPDATE SET last_poll_at = excluded.last_poll_at WHERE watch_polls.last_poll_at <= $2 - $3`,
      [source, now, intervalMs],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async checkpoint(source: string): Promise<string | null> {
    const r = await this.pool.query<{ value: string }>('SELECT value FROM watch_checkpoints WHERE source = $1', [source]);
    return r.rows[0]?.value ?? null;
  }

  /** Only moves forward: replicas polling concurrently cannot take the checkpoint back. */
  async setCheckpoint(source: string, value: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO watch_checkpoints (source, value) VALUES ($1, $2)
       ON CONFLICT (source) DO UPDATE SET value = GREATEST(watch_checkpoints.value, excluded.value)`,
      [source, value],
    );
  }

  async acceptDelivery(id: string, now = Date.now()): Promise<boolean> {
    await this.pool.query('DELETE FROM webhook_deliveries WHERE received_at < $1', [now - DELIVERY_MEMORY_MS]);
    const r = await this.pool.query('INSERT INTO webhook_deliveries (id, received_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, now]);
    return (r.rowCount ?? 0) > 0;
  }

  async saveArtifacts(id: string, artifacts: Artifacts, now = Date.now(), token?: number): Promise<void> {
    const r = await this.pool.query(
      `INSERT INTO watch_artifacts (incident_id, bundle_json, report_json, markdown, updated_at)
       SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM watch_incidents WHERE id = $1 AND ${fence(token, 6)})
       ON CONFLICT (incident_id) DO UPDATE SET bundle_json = COALESCE(excluded.bundle_json, watch_artifacts.bundle_json),
         report_json = COALESCE(excluded.report_json, watch_artifacts.report_json), markdown = COALESCE(excluded.markdown, watch_artifacts.markdown),
         updated_at = excluded.updated_at`,
      [id, artifacts.bundle ? JSON.stringify(artifacts.bundle) : null, artifacts.report ? JSON.stringify(artifacts.report.report) : null, artifacts.report?.markdown ?? null, now, ...(token === undefined ? [] : [token])],
    );
    if ((r.rowCount ?? 0) === 0) throw token !== undefined && (await this.get(id)) ? new LeaseLost(id) : new Error(`unknown watched incident ${id}`);
  }

  async artifacts(id: string): Promise<Artifacts> {
    const r = await this.pool.query<{ bundle_json: string | null; report_json: string | null; markdown: string | null }>(
      'SELECT bundle_json, report_json, markdown FROM watch_artifacts WHERE incident_id = $1',
      [id],
    );
    const row = r.rows[0];
    if (!row) return {};
    return {
      ...(row.bundle_json ? { bundle: JSON.parse(row.bundle_json) as Bundle } : {}),
      ...(row.report_json && row.markdown !== null ? { report: { report: JSON.parse(row.report_json) as Report, markdown: row.markdown } } : {}),
    };
  }
}
