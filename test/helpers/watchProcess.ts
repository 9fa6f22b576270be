// Shared by the autonomous-mode end-to-end tests: the built CLI's `watch` as a child process, the
// watcher's durable state as it sees it, and polling for a condition.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import type { PausePoint } from '../../src/watch/testHooks.js';
import Database from 'better-sqlite3';
import { fromRow, type Row, type WatchedIncident, type WatcherState } from '../../src/watch/watchStore.js';
import type { SlackFake } from '../fakes/slackFake.js';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export interface WatchProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  logs: () => string;
}

/** Starts `hindsight watch` with `env`; the caller kills what is left in `children` after each test. */
export function startWatch(children: ChildProcess[], env: NodeJS.ProcessEnv, args: string[] = ['--apply']): WatchProcess {
  const child = spawn(process.execPath, [CLI, 'watch', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // a failed end-to-end test shows what the watcher said (the tail of its structured log)
  onTestFailed(() => {
    console.error(`--- hindsight watch (pid ${child.pid}, exit ${child.exitCode ?? 'running'}), last 30 log lines ---\n${logs.trimEnd().split('\n').slice(-30).join('\n')}`);
  });
  return { child, exited, logs: () => logs };
}

// The SQLite state read synchronously (for polling probes), as the watcher wrote it.
function readState<T>(home: string, read: (db: Database.Database) => T, empty: T): T {
  if (!existsSync(join(home, 'hindsight.db'))) return empty;
  const db = new Database(join(home, 'hindsight.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } catch (err) {
    // the watcher has not created its tables yet
    if (/no such table/.test((err as Error).message)) return empty;
    throw err;
  } finally {
    db.close();
  }
}

export function watchRow(home: string, incidentId: string): WatchedIncident | null {
  return readState(home, (db) => {
    const row = db.prepare('SELECT * FROM watch_incidents WHERE id = ?').get(incidentId) as Row | undefined;
    return row ? fromRow(row) : null;
  }, null);
}

/** The watcher loop's heartbeat as recorded in its store (what `hindsight status --format json` shows). */
export function watcherState(home: string): WatcherState {
  const empty = { cycles: 0, polls: 0, lastCycleAt: null, lastPollAt: null };
  return readState(home, (db) => {
    const r = db.prepare('SELECT cycles, polls, last_cycle_at, last_poll_at FROM watch_loop WHERE id = 1').get() as
      | { cycles: number; polls: number; last_cycle_at: number | null; last_poll_at: number | null }
      | undefined;
    return r ? { cycles: r.cycles, polls: r.polls, lastCycleAt: r.last_cycle_at, lastPollAt: r.last_poll_at } : empty;
  }, empty);
}

/**
 * Waits until the watcher has completed `cycles` more loop cycles, including `polls` more polls,
 * than `from`: proof that it looked again, for "nothing happened" checks.
 */
export async function moreCycles(home: string, from: WatcherState, want: { cycles: number; polls?: number }, timeoutMs = 40_000): Promise<WatcherState> {
  return until(
    `${want.cycles} more watcher cycles`,
    () => {
      const now = watcherState(home);
      return now.cycles >= from.cycles + want.cycles && now.polls >= from.polls + (want.polls ?? 0) ? now : null;
    },
    timeoutMs,
  );
}

/**
 * Waits until the incident's stage has run to an outcome `more` more times than `from` (its
 * `checks`). Two more guarantee one run that started after the moment `from` was read.
 */
export async function moreChecks(home: string, incidentId: string, from: number, more = 2, timeoutMs = 40_000): Promise<WatchedIncident> {
  return until(`${more} more checks of ${incidentId}`, () => {
    const row = watchRow(home, incidentId);
    return row && row.checks >= from + more ? row : null;
  }, timeoutMs);
}

/** Environment that makes the watcher wait at `points` (test-only hook, src/watch/testHooks.ts). */
export const pauseAt = (...points: PausePoint[]) => ({ HINDSIGHT_TEST_PAUSE_AT: points.join(',') });

/** Where the watcher is waiting at `point` (incident and stage), or null; markers live in HINDSIGHT_HOME. */
export function pausedAt(home: string, point: PausePoint): { incident: string; stage: string } | null {
  const marker = join(home, `${point}.paused`);
  if (!existsSync(marker)) return null;
  try {
    return JSON.parse(readFileSync(marker, 'utf8')) as { incident: string; stage: string };
  } catch {
    return null; // being written
  }
}

/** Lets a paused watcher go on (or clears the marker a killed one left behind). */
export function releasePause(home: string, point: PausePoint): void {
  rmSync(join(home, `${point}.paused`), { force: true });
}

type Probed<T> = T | null | undefined | false;

export async function until<T>(what: string, probe: () => Probed<T> | Promise<Probed<T>>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type PostedMessage = ReturnType<SlackFake['messagesIn']>[number] & { blocks?: unknown; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } };

/** Top-level messages Hindsight posted for review in a channel (found by their metadata). */
export function hindsightPosts(slack: SlackFake, channelId: string): PostedMessage[] {
  return (slack.messagesIn(channelId) as PostedMessage[]).filter((m) => (!m.thread_ts || m.thread_ts === m.ts) && m.metadata?.event_type === 'hindsight_postmortem');
}
