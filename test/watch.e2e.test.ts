// Autonomous mode end to end, on loopback fakes of PagerDuty, Slack, GitHub and Datadog, with the
// built CLI as a separate process: resolved -> picked up -> harvested -> drafted -> posted ->
// approved -> ticketed; the same with SIGKILL and a restart between every pair of stages; the two
// crash windows around the review post (an approval given before the post was recorded; the
// earlier post pages back in a busy channel); and the guards: no approval files nothing, a
// non-approver is ignored, Slack down is retried later. "Nothing happened" is only asserted after
// the watcher's own counters show it looked again (cycles, polls, the incident's checks).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import type { Stage } from '../src/watch/watchStore.js';
import { createDatadogFake, type DatadogFake } from './fakes/datadogFake.js';
import { createGithubFake, type GithubFake } from './fakes/githubFake.js';
import { createPagerDutyFake, pagerdutyIncidentFromBundle, type PagerDutyFake } from './fakes/pagerdutyFake.js';
import { ALL_REVIEW_SCOPES, createSlackFake, type SlackFake } from './fakes/slackFake.js';
import {
  CLI,
  hindsightPosts as hindsightPostsIn,
  moreChecks,
  moreCycles,
  pauseAt,
  pausedAt,
  releasePause,
  startWatch as startWatchProcess,
  until,
  watcherState,
  watchRow,
} from './helpers/watchProcess.js';
import { vendorEnv } from './helpers/vendorEnv.js';

const ROOT = join(__dirname, '..');
const reference = validateBundle(JSON.parse(readFileSync(join(ROOT, 'examples/sample-incident/bundle.json'), 'utf8')));
const src = reference.sources!;
const clone = <T>(v: T): T => structuredClone(v);
const TOKENS = { pd: 'pd-watch-token', slack: 'xoxb-watch-token', gh: 'ghp_watchTokenForLoopbackFake00000000000', ddApi: 'dd-api-w', ddApp: 'dd-app-w' };
const APPROVER = 'U0APPROVER1';
const STRANGER = 'U0STRANGER1';
const REVIEW = { id: 'C0REVIEWS01', name: 'incident-reports' };
const TICKET_REPO = src.github!.repos![0]!.full_name;
const ORDER: Stage[] = ['seen', 'harvested', 'drafted', 'posted', 'approved', 'ticketed'];

interface World {
  pd: PagerDutyFake;
  incident: Record<string, unknown>;
  slack: SlackFake;
  gh: GithubFake;
  dd: DatadogFake;
  home: string;
  env: NodeJS.ProcessEnv;
}

const children: ChildProcess[] = [];
const worlds: World[] = [];

async function world(slackOptions: { historyPageMax?: number } = {}): Promise<World> {
  const home = mkdtempSync(join(tmpdir(), 'hs-watch-'));
  const incident = { ...pagerdutyIncidentFromBundle(reference as never), status: 'acknowledged' };
  const pd = await createPagerDutyFake({ token: TOKENS.pd, incident, logEntries: clone(src.pagerduty!.log_entries!), alerts: clone(src.pagerduty!.alerts ?? []) });
  const slack = await createSlackFake({
    token: TOKENS.slack,
    channel: clone(src.slack!.channel) as never,
    messages: clone(src.slack!.messages) as never,
    users: clone(src.slack!.users) as never,
    extraChannels: [REVIEW as never],
    scopes: ALL_REVIEW_SCOPES,
    ...slackOptions,
  });
  const gh = await createGithubFake({ token: TOKENS.gh, repos: clone(src.github!.repos!) });
  const dd = await createDatadogFake({ apiKey: TOKENS.ddApi, appKey: TOKENS.ddApp, metrics: clone(src.datadog!.metrics!), events: clone(src.datadog!.events ?? []), logs: clone(src.logs) as never });
  writeFileSync(
    join(home, 'hindsight.config.json'),
    JSON.stringify({
      services: { [reference.incident.service!]: { slack_channel: src.slack!.channel!.id, datadog: { queries: src.datadog!.metrics!.map((m) => m.expression), logs_query: '*' } } },
      datadog: { snapshots: 0 },
      windows: { after_resolve_minutes: 60, lookback_hours: 6 },
      watch: { interval_seconds: 0.5, max_attempts: 50 },
      review: { channel: `#${REVIEW.name}`, approvers: [APPROVER] },
      tickets: { system: 'github', github_repo: TICKET_REPO },
      http: { timeout_ms: 3000, retries: 1 },
    }),
  );
  const env: NodeJS.ProcessEnv = {
    ...vendorEnv({ home, config: join(home, 'hindsight.config.json'), fakes: { pd, slack, gh, dd }, tokens: TOKENS, repos: src.github!.repos!.map((r) => r.full_name) }),
  };
  const w = { pd, incident, slack, gh, dd, home, env };
  worlds.push(w);
  return w;
}

const startWatch = (w: World, extraEnv: Record<string, string> = {}, args: string[] = ['--apply']) => startWatchProcess(children, { ...w.env, ...extraEnv }, args);

const stageOf = (w: World): Stage | null => watchRow(w.home, reference.incident.id)?.stage ?? null;
const checksOf = (w: World): number => watchRow(w.home, reference.incident.id)?.checks ?? 0;
const chatUpdates = (w: World) => w.slack.requests.filter((r) => r.method === 'chat.update');

const hindsightPosts = (w: World) => hindsightPostsIn(w.slack, REVIEW.id);
const issues = (w: World) => w.gh.issues(TICKET_REPO).filter((i) => String(i.body ?? '').includes('hindsight:'));

/** The incident turns resolved now (the poller looks back from its checkpoint, not to 2024). */
function resolve(w: World) {
  w.incident.status = 'resolved';
  w.incident.resolved_at = new Date().toISOString();
  w.incident.last_status_change_at = w.incident.resolved_at;
}

function approve(w: World, user = APPROVER) {
  const post = hindsightPosts(w)[0]!;
  w.slack.addReaction(REVIEW.id, String(post.ts), 'white_check_mark', user);
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const w of worlds.splice(0)) await Promise.all([w.pd.close(), w.slack.close(), w.gh.close(), w.dd.close()]);
});

describe('hindsight watch', () => {
  it('takes a resolved incident all the way to tickets, once, and exits 0 on SIGTERM', async () => {
    const w = await world();
    const run = startWatch(w);
    await moreCycles(w.home, { cycles: 0, polls: 0, lastCycleAt: null, lastPollAt: null }, { cycles: 1, polls: 1 });
    expect(stageOf(w)).toBeNull(); // polled, not resolved yet: nothing to do
    resolve(w);
    await until('the draft to be posted', () => stageOf(w) === 'posted');
    expect(hindsightPosts(w)).toHaveLength(1);
    approve(w);
    await until('tickets', () => stageOf(w) === 'ticketed');
    const filed = issues(w);
    expect(filed.length).toBeGreaterThanOrEqual(3);
    expect(filed.length).toBeLessThanOrEqual(5);
    expect(new Set(filed.map((i) => /hindsight:[^ >]+/.exec(String(i.body))![0])).size).toBe(filed.length);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(hindsightPosts(w)).toHaveLength(1);
    const logs = run.logs();
    for (const token of Object.values(TOKENS)) expect(logs).not.toContain(token);
    expect(logs).toMatch(/"incident":"[^"]+","stage":"/);

    // `hindsight status --format json`: the watcher's heartbeat and each incident's checks
    const status = spawnSync(process.execPath, [CLI, 'status', '--format', 'json'], { env: w.env, encoding: 'utf8' });
    expect(status.status).toBe(0);
    const shown = JSON.parse(status.stdout) as { watcher: { cycles: number; polls: number; lastCycleAt: number }; incidents: Array<{ id: string; stage: string; checks: number }> };
    expect(shown.watcher.polls).toBeGreaterThanOrEqual(1);
    expect(shown.watcher.cycles).toBeGreaterThanOrEqual(shown.watcher.polls);
    expect(shown.incidents).toEqual([expect.objectContaining({ id: reference.incident.id, stage: 'ticketed' })]);
    expect(shown.incidents[0]!.checks).toBeGreaterThanOrEqual(ORDER.length - 1);
  });

  it('loses nothing and duplicates nothing when SIGKILLed between every pair of stages', async () => {
    const w = await world();
    resolve(w);
    const seen: Stage[] = [];
    let last: Stage | null = null;
    for (let round = 0; round < 12 && last !== 'ticketed'; round++) {
      releasePause(w.home, 'stage');
      const from = stageOf(w);
      // the process stops right after its first checkpoint and is killed there without warning
      const run = startWatch(w, pauseAt('stage'));
      const paused = await until('the next checkpoint', () => pausedAt(w.home, 'stage'));
      const next = stageOf(w)!;
      expect(next).toBe(paused.stage);
      expect(next).not.toBe(from);
      run.child.kill('SIGKILL');
      await run.exited;
      seen.push(next);
      last = next;
      if (next === 'posted') approve(w);
    }
    expect(last).toBe('ticketed');
    // every stage was a separate process life
    expect(seen).toEqual(ORDER.slice(ORDER.indexOf(seen[0]!)));
    expect(hindsightPosts(w)).toHaveLength(1);
    const filed = issues(w);
    expect(filed.length).toBeGreaterThanOrEqual(3);
    expect(new Set(filed.map((i) => String(i.title))).size).toBe(filed.length);
    // one more life changes nothing
    const again = startWatch(w);
    await moreCycles(w.home, watcherState(w.home), { cycles: 2, polls: 1 });
    again.child.kill('SIGTERM');
    await again.exited;
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(issues(w)).toHaveLength(filed.length);
  });

  it('counts an approval given between the review post and its checkpoint (crash window 1)', async () => {
    const w = await world();
    resolve(w);
    // stop right after the draft is published, before the stage is recorded as posted
    const run = startWatch(w, pauseAt('published'));
    await until('the draft to be published', () => pausedAt(w.home, 'published'));
    expect(stageOf(w)).toBe('drafted');
    expect(watchRow(w.home, reference.incident.id)!.slackTs).toBeNull();
    const post = hindsightPosts(w)[0]!;
    w.slack.addReply(REVIEW.id, String(post.ts), { user: APPROVER, text: 'approve' });
    run.child.kill('SIGKILL');
    await run.exited;
    // killed in the same window twice more: each life finds the post and leaves it as it is
    for (let life = 0; life < 2; life++) {
      releasePause(w.home, 'published');
      const again = startWatch(w, pauseAt('published'));
      await until('the draft to be found again', () => pausedAt(w.home, 'published'));
      again.child.kill('SIGKILL');
      await again.exited;
      expect(stageOf(w)).toBe('drafted');
      expect(hindsightPosts(w)).toHaveLength(1);
      expect(chatUpdates(w)).toHaveLength(0);
    }
    releasePause(w.home, 'published');

    const restarted = startWatch(w);
    await until('tickets', () => stageOf(w) === 'ticketed');
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    // the recovered post was neither re-published nor updated: one post, revision 1, never edited
    const posts = hindsightPosts(w);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.ts).toBe(post.ts);
    expect(posts[0]!.edited).toBeUndefined();
    expect(posts[0]!.metadata?.event_payload?.version).toBe(1);
    expect(chatUpdates(w)).toHaveLength(0);
    const replies = w.slack.messagesIn(REVIEW.id).filter((m) => m.thread_ts === post.ts && m.ts !== post.ts);
    expect(replies.filter((m) => m.bot_id)).toHaveLength(4); // the Markdown file, the timeline, the chart PNG and the HTML page, once each
    expect(watchRow(w.home, reference.incident.id)!.slackTs).toBe(post.ts);
    expect(issues(w).length).toBeGreaterThanOrEqual(3);
    expect(restarted.logs()).toMatch(/"created":false,"updated":false/);
  });

  it('finds the earlier post pages back in a busy review channel after a crash (crash window 2)', async () => {
    // Slack may answer conversations.history with fewer messages than asked, and a next_cursor
    const w = await world({ historyPageMax: 3 });
    for (let i = 0; i < 4; i++) w.slack.addMessage(REVIEW.id, { user: STRANGER, text: `earlier traffic ${i}` });
    resolve(w);
    const run = startWatch(w, pauseAt('published'));
    await until('the draft to be published', () => pausedAt(w.home, 'published'));
    const post = hindsightPosts(w)[0]!;
    run.child.kill('SIGKILL');
    await run.exited;
    releasePause(w.home, 'published');
    // the channel is busy while the watcher is down: the post is now on the third page or later
    for (let i = 0; i < 8; i++) w.slack.addMessage(REVIEW.id, { user: STRANGER, text: `other incident chatter ${i}` });

    const from = w.slack.requests.length;
    const restarted = startWatch(w);
    await until('the draft to be posted', () => stageOf(w) === 'posted');
    const history = w.slack.requests.slice(from).filter((r) => r.method === 'conversations.history' && r.params.channel === REVIEW.id);
    expect(history.length).toBeGreaterThanOrEqual(3);
    expect(history.slice(1).every((r) => Boolean(r.params.cursor))).toBe(true);
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(watchRow(w.home, reference.incident.id)!.slackTs).toBe(post.ts);
    expect(chatUpdates(w)).toHaveLength(0);
    approve(w);
    await until('tickets', () => stageOf(w) === 'ticketed');
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    expect(hindsightPosts(w)).toHaveLength(1);
  });

  it('files nothing without an approval, and ignores a non-approver', async () => {
    const w = await world();
    resolve(w);
    const run = startWatch(w);
    await until('the draft to be posted', () => stageOf(w) === 'posted');
    await moreChecks(w.home, reference.incident.id, checksOf(w)); // no approval yet: looked, still posted
    expect(stageOf(w)).toBe('posted');
    approve(w, STRANGER);
    w.slack.addReply(REVIEW.id, String(hindsightPosts(w)[0]!.ts), { user: STRANGER, text: 'approve' });
    // two more checks: at least one read the review after the stranger's ✅ and reply
    await moreChecks(w.home, reference.incident.id, checksOf(w));
    expect(stageOf(w)).toBe('posted');
    expect(issues(w)).toHaveLength(0);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('retries later when Slack is down at posting time, without losing the incident', async () => {
    const w = await world();
    resolve(w);
    w.slack.faults.downFor = ['chat.postMessage'];
    const run = startWatch(w);
    await until('a failed posting attempt', () => {
      const row = watchRow(w.home, reference.incident.id);
      return row && row.stage === 'drafted' && row.attempts > 0 ? row : null;
    });
    expect(hindsightPosts(w)).toHaveLength(0);
    w.slack.faults.downFor = [];
    await until('the draft to be posted after Slack came back', () => stageOf(w) === 'posted', 60_000);
    expect(hindsightPosts(w)).toHaveLength(1);
    run.child.kill('SIGTERM');
    await run.exited;
  });

  it('without --apply drafts but posts and files nothing', async () => {
    const w = await world();
    resolve(w);
    const run = startWatch(w, {}, []);
    // the drafted stage ran once more without --apply: it snoozed instead of posting
    await until('the dry run of the posting stage', () => {
      const row = watchRow(w.home, reference.incident.id);
      return row?.stage === 'drafted' && row.attempts === 0 && row.nextAttemptAt > 0 ? row : null;
    });
    expect(stageOf(w)).toBe('drafted');
    expect(hindsightPosts(w)).toHaveLength(0);
    expect(run.logs()).toMatch(/dry run/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
