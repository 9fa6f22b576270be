// Shared by the autonomous-mode end-to-end tests: the built CLI's `watch` as a child process, the
// watcher's durable state as it sees it, and polling for a condition.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WatchStore, type WatchedIncident } from '../../src/watch/watchStore.js';
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
  return { child, exited, logs: () => logs };
}

export function watchRow(home: string, incidentId: string): WatchedIncident | null {
  const store = new WatchStore(home);
  try {
    return store.get(incidentId) ?? null;
  } finally {
    store.close();
  }
}

export async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
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
