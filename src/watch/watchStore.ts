// Durable state of the autonomous pipeline, in the same SQLite file as the incident store: each
// incident's stage, attempts and next retry, the Slack message and the tickets, plus the poller's
// checkpoints and the webhook deliveries already accepted (replay protection).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const STAGES = ['seen', 'harvested', 'drafted', 'posted', 'approved', 'ticketed'] as const;
export type Stage = (typeof STAGES)[number] | 'failed';

export interface WatchedIncident {
  id: string;
  source: 'pagerduty' | 'opsgenie';
  service: string | null;
  title: string;
  resolvedAt: string | null;
  stage: Stage;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  tickets: Array<{ marker: string; key: string; url: string; status: string }>;
  engine: string | null;
  feedbackTs: string | null;
  /** how many times a stage of this incident has run to an outcome (done, look again later, failed) */
  checks: number;
  /** when the last of those ended (epoch ms), null before the first */
  checkedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The loop's own heartbeat: how many cycles (a poll when due, then every due stage) it has completed. */
export interface WatcherState {
  cycles: number;
  polls: number;
  lastCycleAt: number | null;
  lastPollAt: number | null;
}

interface Row {
  id: string;
  source: string;
  service: string | null;
  title: string;
  resolved_at: string | null;
  stage: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  slack_channel: string | null;
  slack_ts: string | null;
  tickets_json: string | null;
  engine: string | null;
  feedback_ts: string | null;
  checks: number;
  checked_at: number | null;
  created_at: number;
  updated_at: number;
}

const fromRow = (r: Row): WatchedIncident => ({
  id: r.id,
  source: r.source as WatchedIncident['source'],
  service: r.service,
  title: r.title,
  resolvedAt: r.resolved_at,
  stage: r.stage as Stage,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  slackChannel: r.slack_channel,
  slackTs: r.slack_ts,
  tickets: r.tickets_json ? (JSON.parse(r.tickets_json) as WatchedIncident['tickets']) : [],
  engine: r.engine,
  feedbackTs: r.feedback_ts,
  checks: r.checks,
  checkedAt: r.checked_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class WatchStore {
  private readonly db: Database.Database;

  constructor(home: string) {
    mkdirSync(home, { recursive: true });
    this.db = new Database(join(home, 'hindsight.db'));
    // the timeout first: another process (a running watcher, `hindsight status`) may hold a lock
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // synchronous=FULL: a stage recorded as done survives a power cut, not just a killed process.
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
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
    `);
    // stores created before these columns existed
    const columns = new Set((this.db.prepare('PRAGMA table_info(watch_incidents)').all() as Array<{ name: string }>).map((c) => c.name));
    if (!columns.has('checks')) this.db.exec('ALTER TABLE watch_incidents ADD COLUMN checks INTEGER NOT NULL DEFAULT 0');
    if (!columns.has('checked_at')) this.db.exec('ALTER TABLE watch_incidents ADD COLUMN checked_at INTEGER');
  }

  close(): void {
    this.db.close();
  }

  /** Records a resolved incident once; a second sighting (poll overlap, webhook + poll) is a no-op. */
  enqueue(incident: { id: string; source: WatchedIncident['source']; service: string | null; title: string; resolvedAt: string | null }, now = Date.now()): boolean {
    const result = this.db
      .prepare(
        `INSERT OR IGNORE INTO watch_incidents (id, source, service, title, resolved_at, stage, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'seen', 0, 0, ?, ?)`,
      )
      .run(incident.id, incident.source, incident.service, incident.title, incident.resolvedAt, now, now);
    return result.changes > 0;
  }

  get(id: string): WatchedIncident | null {
    const row = this.db.prepare('SELECT * FROM watch_incidents WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(): WatchedIncident[] {
    return (this.db.prepare('SELECT * FROM watch_incidents ORDER BY created_at DESC').all() as Row[]).map(fromRow);
  }

  /** Incidents with work to do now, oldest first. */
  due(now = Date.now()): WatchedIncident[] {
    return (
      this.db
        .prepare(`SELECT * FROM watch_incidents WHERE stage NOT IN ('ticketed', 'failed') AND next_attempt_at <= ? ORDER BY created_at ASC`)
        .all(now) as Row[]
    ).map(fromRow);
  }

  /** Marks a stage done (the checkpoint) with whatever it produced; resets the retry counter. */
  advance(id: string, stage: Stage, fields: Partial<Pick<WatchedIncident, 'slackChannel' | 'slackTs' | 'tickets' | 'engine' | 'feedbackTs'>> = {}, now = Date.now()): void {
    const current = this.get(id);
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

  /** Same stage, look again later (e.g. waiting for approval); not a failure. */
  snooze(id: string, untilMs: number, fields: Partial<Pick<WatchedIncident, 'feedbackTs' | 'engine'>> = {}, now = Date.now()): void {
    const current = this.get(id);
    this.db
      .prepare('UPDATE watch_incidents SET next_attempt_at = ?, feedback_ts = ?, engine = ?, checks = checks + 1, checked_at = ?, updated_at = ? WHERE id = ?')
      .run(untilMs, fields.feedbackTs ?? current?.feedbackTs ?? null, fields.engine ?? current?.engine ?? null, now, now, id);
  }

  /** A failed attempt: back off exponentially; after maxAttempts the incident is parked as failed. */
  fail(id: string, error: string, opts: { maxAttempts: number; baseDelayMs: number; random?: () => number }, now = Date.now()): WatchedIncident {
    const current = this.get(id)!;
    const attempts = current.attempts + 1;
    const exhausted = attempts >= opts.maxAttempts;
    const backoff = Math.min(6 * 3600_000, opts.baseDelayMs * 2 ** (attempts - 1));
    const delay = Math.round(backoff / 2 + ((opts.random ?? Math.random)() * backoff) / 2);
    this.db
      .prepare('UPDATE watch_incidents SET stage = ?, attempts = ?, next_attempt_at = ?, last_error = ?, checks = checks + 1, checked_at = ?, updated_at = ? WHERE id = ?')
      .run(exhausted ? 'failed' : current.stage, attempts, now + delay, error.slice(0, 500), now, now, id);
    return this.get(id)!;
  }

  /** Puts failed incidents back in line (hindsight watch --retry-failed). */
  retryFailed(now = Date.now()): number {
    // The stage before failing is not kept; restart from the beginning, every stage being idempotent.
    return this.db.prepare(`UPDATE watch_incidents SET stage = 'seen', attempts = 0, next_attempt_at = 0, updated_at = ? WHERE stage = 'failed'`).run(now).changes;
  }

  /** Counts a completed cycle of the loop (`polled`: it included a poll). */
  recordCycle(polled: boolean, now = Date.now()): void {
    this.db
      .prepare('UPDATE watch_loop SET cycles = cycles + 1, last_cycle_at = ?, polls = polls + ?, last_poll_at = CASE WHEN ? THEN ? ELSE last_poll_at END WHERE id = 1')
      .run(now, polled ? 1 : 0, polled ? 1 : 0, now);
  }

  watcher(): WatcherState {
    const r = this.db.prepare('SELECT cycles, polls, last_cycle_at, last_poll_at FROM watch_loop WHERE id = 1').get() as
      | { cycles: number; polls: number; last_cycle_at: number | null; last_poll_at: number | null }
      | undefined;
    return { cycles: r?.cycles ?? 0, polls: r?.polls ?? 0, lastCycleAt: r?.last_cycle_at ?? null, lastPollAt: r?.last_poll_at ?? null };
  }

  checkpoint(source: string): string | null {
    const row = this.db.prepare('SELECT value FROM watch_checkpoints WHERE source = ?').get(source) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setCheckpoint(source: string, value: string): void {
    this.db.prepare('INSERT INTO watch_checkpoints (source, value) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET value = excluded.value').run(source, value);
  }

  /** True the first time a delivery id is seen; false for a replay. Old ids are forgotten after a week. */
  acceptDelivery(id: string, now = Date.now()): boolean {
    this.db.prepare('DELETE FROM webhook_deliveries WHERE received_at < ?').run(now - 7 * 24 * 3600_000);
    return this.db.prepare('INSERT OR IGNORE INTO webhook_deliveries (id, received_at) VALUES (?, ?)').run(id, now).changes > 0;
  }
}
