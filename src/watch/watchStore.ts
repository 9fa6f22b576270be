// Durable state of the autonomous pipeline: each incident's stage, attempts and next retry, the
// Slack message and the tickets, plus the poller's checkpoints and the webhook deliveries already
// accepted (replay protection). WatchStore is the port; SqliteWatchStore (sqliteWatchStore.ts, the
// default: the same SQLite file as the incident store, one watcher per HINDSIGHT_HOME) and
// PostgresWatchStore (postgresWatchStore.ts: several replicas, stage leases) implement it. This
// file loads no database driver, so the serverless entry does not pull in SQLite's native module.
import type { Bundle } from '../core/bundle.js';
import type { Report } from '../core/report.js';

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
  /** True when this replica should poll `source` now: nobody did within the last `intervalMs`. */
  claimPoll(source: string, intervalMs: number, now?: number): Promise<boolean>;
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
