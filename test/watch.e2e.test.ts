// Autonomous mode end to end, on loopback fakes of PagerDuty, Slack, GitHub and Datadog, with the
// built CLI as a separate process: resolved -> picked up -> harvested -> drafted -> posted ->
// approved -> ticketed; the same with SIGKILL and a restart between every pair of stages; and the
// guards: no approval files nothing, a non-approver is ignored, Slack down is retried later.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import { WatchStore, type Stage } from '../src/watch/watchStore.js';
import { createDatadogFake, type DatadogFake } from './fakes/datadogFake.js';
import { createGithubFake, type GithubFake } from './fakes/githubFake.js';
import { createPagerDutyFake, pagerdutyIncidentFromBundle, type PagerDutyFake } from './fakes/pagerdutyFake.js';
import { ALL_REVIEW_SCOPES, createSlackFake, type SlackFake } from './fakes/slackFake.js';
import { hindsightPosts as hindsightPostsIn, startWatch as startWatchProcess, until, watchRow } from './helpers/watchProcess.js';
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

async function world(): Promise<World> {
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
    await new Promise((r) => setTimeout(r, 1500));
    expect(stageOf(w)).toBeNull(); // not resolved yet: nothing to do
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
  });

  it('loses nothing and duplicates nothing when SIGKILLed between every pair of stages', async () => {
    const w = await world();
    resolve(w);
    const seen: Stage[] = [];
    let last: Stage | null = null;
    for (let round = 0; round < 12 && last !== 'ticketed'; round++) {
      const run = startWatch(w, { HINDSIGHT_STAGE_DELAY_MS: '1500' });
      const from = stageOf(w);
      // wait for the next checkpoint, then kill without warning
      const next = await until('the next stage', () => {
        const s = stageOf(w);
        return s !== null && s !== from ? s : null;
      });
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
    await new Promise((r) => setTimeout(r, 2000));
    again.child.kill('SIGTERM');
    await again.exited;
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(issues(w)).toHaveLength(filed.length);
  });

  it('files nothing without an approval, and ignores a non-approver', async () => {
    const w = await world();
    resolve(w);
    const run = startWatch(w);
    await until('the draft to be posted', () => stageOf(w) === 'posted');
    approve(w, STRANGER);
    w.slack.addReply(REVIEW.id, String(hindsightPosts(w)[0]!.ts), { user: STRANGER, text: 'approve' });
    await new Promise((r) => setTimeout(r, 3000));
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
      const store = new WatchStore(w.home);
      try {
        const row = store.get(reference.incident.id);
        return row && row.stage === 'drafted' && row.attempts > 0 ? row : null;
      } finally {
        store.close();
      }
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
    await until('the draft', () => stageOf(w) === 'drafted');
    await new Promise((r) => setTimeout(r, 1500));
    expect(stageOf(w)).toBe('drafted');
    expect(hindsightPosts(w)).toHaveLength(0);
    expect(run.logs()).toMatch(/dry run/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
