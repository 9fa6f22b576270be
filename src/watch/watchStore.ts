// Durable state of the autonomous pipeline: each incident's stage, attempts and next retry, the
// Slack message and the tickets, plus the poller's checkpoints and the webhook deliveries already
// accepted (replay protection). WatchStore is the port; SqliteWatchStore (this file, the default:
// the same SQLite file as the incident store, one watcher per HINDSIGHT_HOME) and
// PostgresWatchStore (postgresWatchStore.ts: several replicas, stage leases) implement it.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../core/bundle.js';
import type { Report } from '../core/report.js';
import { migrateSqlite } from './migrations/sqlite.js';

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

export type IncidentSighting = { id: string; source: WatchedIncident['source']; service: string | null; title: string; resolvedAt: string | null };
export type StageFields = Partial<Pick<WatchedIncident, 'slackChannel' | 'slackTs' | 'tickets' | 'engine' | 'feedbackTs'>>;
export interface FailPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  random?: () => number;
}

/** A stage this process may run: the incident as claimed and the fencing token of its lease. */
export interface Claim {
  incident: WatchedIncident;
  token: number;
}

/** What earlier stages produced, kept where every replica can read it. */
export interface Artifacts {
  bundle?: Bundle;
  report?: { report: Report; markdown: string };
}

/**
 * The write of a stage's outcome found another claim on the incident (this process's lease expired
 * and another replica took the stage): the outcome is dropped, the other replica's stands.
 */
export class LeaseLost extends Error {
  constructor(id: string) {
    super(`lease on ${id} lost to another replica: outcome not recorded`);
    this.name = 'LeaseLost';
  }
}

/**
 * The port. Every write of a stage's outcome (advance, snooze, fail, saveArtifacts) takes the
 * claim's fencing token when it has one; a token that is no longer current throws LeaseLost.
 * Without a token the write is unconditional (tests, administrative commands).
 */
export interface WatchStore {
  readonly backend: 'sqlite' | 'postgres';
  /** true when earlier stages' bundle and draft must be read from the store (several replicas) */
  readonly sharesArtifacts: boolean;
  close(): Promise<void>;
  /** Records a resolved incident once; a second sighting (poll overlap, webhook + poll, another replica) is a no-op. */
  enqueue(incident: IncidentSighting, now?: number): Promise<boolean>;
  get(id: string): Promise<WatchedIncident | null>;
  list(): Promise<WatchedIncident[]>;
  /** Incidents with work to do now, oldest first (whether or not another replica holds them). */
  due(now?: number): Promise<WatchedIncident[]>;
  /** Takes the oldest due incident nobody holds, for leaseMs; null when there is none. */
  claim(owner: string, opts: { leaseMs: number; exclude?: readonly string[] }, now?: number): Promise<Claim | null>;
  /** Extends a held lease; false when it was lost. */
  renew(claim: Claim, leaseMs: number, now?: number): Promise<boolean>;
  /** Marks a stage done (the checkpoint) with whatever it produced; resets the retry counter. */
  advance(id: string, stage: Stage, fields?: StageFields, now?: number, token?: number): Promise<void>;
  /** Same stage, look again later (e.g. waiting for approval); not a failure. */
  snooze(id: string, untilMs: number, fields?: Partial<Pick<WatchedIncident, 'feedbackTs' | 'engine'>>, now?: number, token?: number): Promise<void>;
  /** A failed attempt: back off exponentially; after maxAttempts the incident is parked as failed. */
  fail(id: string, error: string, opts: FailPolicy, now?: number, token?: number): Promise<WatchedIncident>;
  /** Puts failed incidents back in line (hindsight watch --retry-failed). */
  retryFailed(now?: number): Promise<number>;
  /** Counts a completed cycle of the loop (`polled`: it included a poll). */
  recordCycle(polled: boolean, now?: number): Promise<void>;
  watcher(): Promise<WatcherState>;
  checkpoint(source: string): Promise<string | null>;
  setCheckpoint(source: string, value: string): Promise<void>;
  /** True the first time a delivery id is seen; false for a replay. Old ids are forgotten after a week. */
  acceptDelivery(id: string, now?: number): Promise<boolean>;
  /** Keeps a stage's bundle or draft for the replica that runs the next stage (no-op when !sharesArtifacts). */
  saveArtifacts(id: string, artifacts: Artifacts, now?: number, token?: number): Promise<void>;
  artifacts(id: string): Promise<Artifacts>;
}

export const DELIVERY_MEMORY_MS = 7 * 24 * 3600_000;

/** Exponential backoff with jitter: half the step fixed, half random; capped at six hours. */
export function retryDelay(attempts: number, opts: FailPolicy): number {
  const backoff = Math.min(6 * 3600_000, opts.baseDelayMs * 2 ** (attempts - 1));
  return Math.round(backoff / 2 + ((opts.random ?? Math.random)() * backoff) / 2);
}

export interface Row {
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

export const fromRow = (r: Row): WatchedIncident => ({
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
