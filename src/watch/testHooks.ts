// Test-only pause points of `hindsight watch`, off unless HINDSIGHT_TEST_PAUSE_AT is set. They let
// the end-to-end tests stop the process at an exact moment (to SIGKILL it there, or to act while it
// waits) instead of guessing with sleeps. Not for production use.
//
//   HINDSIGHT_TEST_PAUSE_AT   comma-separated points:
//                               stage      after every checkpoint that moved an incident to a new stage
//                               published  after the review post is published, before its checkpoint
//   HINDSIGHT_TEST_PAUSE_DIR  directory for the marker files (default: HINDSIGHT_HOME)
//
// At a listed point the process writes `<dir>/<point>.paused` (JSON: incident, stage) and waits
// until that file is removed, or until the watcher is asked to stop.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PAUSE_POINTS = ['stage', 'published'] as const;
export type PausePoint = (typeof PAUSE_POINTS)[number];

/** Waits at `point` when it is enabled; resolves at once otherwise. */
export type Pause = (point: PausePoint, detail: { incident: string; stage: string }) => Promise<void>;

export const noPause: Pause = async () => {};

export function pauseFromEnv(env: NodeJS.ProcessEnv, home: string): { points: PausePoint[]; dir: string } | null {
  const points = (env.HINDSIGHT_TEST_PAUSE_AT ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p): p is PausePoint => (PAUSE_POINTS as readonly string[]).includes(p));
  if (points.length === 0) return null;
  return { points, dir: env.HINDSIGHT_TEST_PAUSE_DIR || home };
}

export function makePause(config: { points: PausePoint[]; dir: string } | null, stopping: () => boolean): Pause {
  if (!config) return noPause;
  mkdirSync(config.dir, { recursive: true });
  return async (point, detail) => {
    if (!config.points.includes(point)) return;
    const marker = join(config.dir, `${point}.paused`);
    writeFileSync(marker, JSON.stringify(detail));
    while (existsSync(marker) && !stopping()) await new Promise((r) => setTimeout(r, 20));
  };
}
