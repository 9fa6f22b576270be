// The watcher's state in SQLite (HINDSIGHT_HOME/hindsight.db), the default store.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrateSqlite } from './migrations/sqlite.js';
import {
  DELIVERY_MEMORY_MS,
  fromRow,
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

/** One watcher per HINDSIGHT_HOME: claims are not leased (there is nobody to share with). */
export class SqliteWatchStore implements WatchStore {
  readonly backend = 'sqlite' as const;
  readonly sharesArtifacts = false;
  private readonly db: Database.Database;

  constructor(home: string) {
    mkdirSync(home, { recursive: true });
    this.db = new Database(join(home, 'hindsight.db'));
    // the timeout first: another process (a running watcher, `hindsight status`) may hold a lock
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // synchronous=FULL: a stage recorded as done survives a power cut, not just a killed process.
    this.db.pragma('synchronous = FULL');
    migrateSqlite(this.db);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async enqueue(incident: IncidentSighting, now = Date.now()): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT OR IGNORE INTO watch_incidents (id, source, service, title, resolved_at, stage, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'seen', 0, 0, ?, ?)`,
      )
      .run(incident.id, incident.source, incident.service, incident.title, incident.resolvedAt, now, now);
    return result.changes > 0;
  }

  private row(id: string): WatchedIncident | null {
    const row = this.db.prepare('SELECT * FROM watch_incidents WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  async get(id: string): Promise<WatchedIncident | null> {
    return this.row(id);
  }

  async list(): Promise<WatchedIncident[]> {
    return (this.db.prepare('SELECT * FROM watch_incidents ORDER BY created_at DESC').all() as Row[]).map(fromRow);
  }

  private dueRows(now: number): WatchedIncident[] {
    return (
      this.db
        .prepare(`SELECT * FROM watch_incidents WHERE stage NOT IN ('ticketed', 'failed') AND next_attempt_at <= ? ORDER BY created_at ASC`)
        .all(now) as Row[]
    ).map(fromRow);
  }

  async due(now = Date.now()): Promise<WatchedIncident[]> {
    return this.dueRows(now);
  }

  async claim(_owner: string, opts: { leaseMs: number; exclude?: readonly string[] }, now = Date.now()): Promise<Claim | null> {
    const skip = new Set(opts.exclude ?? []);
    const incident = this.dueRows(now).find((r) => !skip.has(r.id));
    return incident ? { incident, token: 0 } : null;
  }

  async renew(): Promise<boolean> {
    return true;
  }

  async advance(id: string, stage: Stage, fields: StageFields = {}, now = Date.now()): Promise<void> {
    const current = this.row(id);
    if (!current) throw new Error(`unknown watched incident ${id}`);
    this.db
      .prepare(
        `UPDATE watch_incidents SET stage = ?, attempts = 0, next_attempt_at = 0, last_error = NULL,
           slack_channel = ?, slack_ts = ?, tickets_json = ?, engine = ?, feedback_ts = ?, checks = checks + 1, checked_at = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        stage,
        fields.slackChannel ?? current.slackChannel,
        fields.slackTs ?? current.slackTs,
        JSON.stringify(fields.tickets ?? current.tickets),
        fields.engine ?? current.engine,
        fields.feedbackTs ?? current.feedbackTs,
        now,
        now,
        id,
      );
  }

  async snooze(id: string, untilMs: number, fields: Partial<Pick<WatchedIncident, 'feedbackTs' | 'engine'>> = {}, now = Date.now()): Promise<void> {
    const current = this.row(id);
    this.db
      .prepare('UPDATE watch_incidents SET next_attempt_at = ?, feedback_ts = ?, engine = ?, checks = checks + 1, checked_at = ?, updated_at = ? WHERE id = ?')
      .run(untilMs, fields.feedbackTs ?? current?.feedbackTs ?? null, fields.engine ?? current?.engine ?? null, now, now, id);
  }

  async fail(id: string, error: string, opts: FailPolicy, now = Date.now()): Promise<WatchedIncident> {
    const current = this.row(id)!;
    const attempts = current.attempts + 1;
    const exhausted = attempts >= opts.maxAttempts;
    this.db
      .prepare('UPDATE watch_incidents SET stage = ?, attempts = ?, next_attempt_at = ?, last_error = ?, checks = checks + 1, checked_at = ?, updated_at = ? WHERE id = ?')
      .run(exhausted ? 'failed' : current.stage, attempts, now + retryDelay(attempts, opts), error.slice(0, 500), now, now, id);
    return this.row(id)!;
  }

  async retryFailed(now = Date.now()): Promise<number> {
    // The stage before failing is not kept; restart from the beginning, every stage being idempotent.
    return this.db.prepare(`UPDATE watch_incidents SET stage = 'seen', attempts = 0, next_attempt_at = 0, updated_at = ? WHERE stage = 'failed'`).run(now).changes;
  }

  async recordCycle(polled: boolean, now = Date.now()): Promise<void> {
    this.db
      .prepare('UPDATE watch_loop SET cycles = cycles + 1, last_cycle_at = ?, polls = polls + ?, last_poll_at = CASE WHEN ? THEN ? ELSE last_poll_at END WHERE id = 1')
      .run(now, polled ? 1 : 0, polled ? 1 : 0, now);
  }

  async watcher(): Promise<WatcherState> {
    const r = this.db.prepare('SELECT cycles, polls, last_cycle_at, last_poll_at FROM watch_loop WHERE id = 1').get() as
      | { cycles: number; polls: number; last_cycle_at: number | null; last_poll_at: number | null }
      | undefined;
    return { cycles: r?.cycles ?? 0, polls: r?.polls ?? 0, lastCycleAt: r?.last_cycle_at ?? null, lastPollAt: r?.last_poll_at ?? null };
  }

  /** One watcher: it always polls when its own schedule says so. */
  async claimPoll(): Promise<boolean> {
    return true;
  }

  async checkpoint(source: string): Promise<string | null> {
    const row = this.db.prepare('SELECT value FROM watch_checkpoints WHERE source = ?').get(source) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async setCheckpoint(source: string, value: string): Promise<void> {
    this.db.prepare('INSERT INTO watch_checkpoints (source, value) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET value = excluded.value').run(source, value);
  }

  async acceptDelivery(id: string, now = Date.now()): Promise<boolean> {
    this.db.prepare('DELETE FROM webhook_deliveries WHERE received_at < ?').run(now - DELIVERY_MEMORY_MS);
    return this.db.prepare('INSERT OR IGNORE INTO webhook_deliveries (id, received_at) VALUES (?, ?)').run(id, now).changes > 0;
  }

  /** The incident store in the same HINDSIGHT_HOME already holds them. */
  async saveArtifacts(): Promise<void> {}

  async artifacts(): Promise<Artifacts> {
    return {};
  }
}
