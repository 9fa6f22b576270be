// Autonomous mode in LLM mode, end to end, with the built CLI as a separate process: loopback
// fakes of PagerDuty, Slack, GitHub (harvest), Datadog, the Anthropic Messages API (scripted
// drafting runs: a few tool calls, then a JSON draft that passes the checks) and Jira (tickets).
//   1. resolved -> drafted by Claude -> posted; a reviewer's `changes: …` reply is re-drafted with
//      the feedback and the SAME Slack message is updated; the approver's ✅ -> one Jira issue per
//      action item, priorities by name.
//   2. the Claude API answers 500 to everything: the deterministic draft is posted and the
//      pipeline goes on to tickets.
//   3. flow 1 with SIGKILL and a restart between every pair of stages: one post, one issue per item.
//   4. a second `changes:` reply that arrives while the first revision is being drafted is not
//      swallowed: a later revision answers it and updates the same message again.
//   5. the Claude API fails only on the revision: the reviewed Claude draft stays (in the store and
//      in Slack), the feedback stays open and is retried; once the API recovers it is revised.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle } from '../src/core/bundle.js';
import type { Report } from '../src/core/report.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import type { Stage, WatchedIncident } from '../src/watch/watchStore.js';
import { createAnthropicFake, toolResultsOf, type AnthropicFake, type FakeAnthropicRequest, type FakeReply, type ScriptEntry } from './fakes/anthropicFake.js';
import { createDatadogFake, type DatadogFake } from './fakes/datadogFake.js';
import { createGithubFake, type GithubFake } from './fakes/githubFake.js';
import { createJiraFake, type JiraFake, type JiraFakeIssue } from './fakes/jiraFake.js';
import { createPagerDutyFake, pagerdutyIncidentFromBundle, type PagerDutyFake } from './fakes/pagerdutyFake.js';
import { ALL_REVIEW_SCOPES, createSlackFake, type SlackFake } from './fakes/slackFake.js';
import {
  hindsightPosts as hindsightPostsIn,
  moreCycles,
  pauseAt,
  pausedAt,
  releasePause,
  startWatch as startWatchProcess,
  until,
  watcherState,
  watchRow,
  type PostedMessage,
} from './helpers/watchProcess.js';
import { vendorEnv } from './helpers/vendorEnv.js';

const ROOT = join(__dirname, '..');
const reference = validateBundle(JSON.parse(readFileSync(join(ROOT, 'examples/sample-incident/bundle.json'), 'utf8')));
const src = reference.sources!;
const ID = reference.incident.id;
const clone = <T>(v: T): T => structuredClone(v);
const TOKENS = {
  pd: 'pd-watch-token',
  slack: 'xoxb-watch-token',
  gh: 'ghp_watchTokenForLoopbackFake00000000000',
  ddApi: 'dd-api-w',
  ddApp: 'dd-app-w',
  anthropic: 'sk-ant-watch-llm-fake-key-0001',
  jira: 'jira-watch-api-token-0001',
};
const JIRA_EMAIL = 'hindsight-bot@acme.example';
const JIRA_PROJECT = 'OPS';
const JIRA_PRIORITIES = { P0: 'Highest', P1: 'High', P2: 'Medium', P3: 'Low' } as const;
const MODEL = 'claude-watch-e2e-model';
const APPROVER = 'U0APPROVER1';
const REVIEWER = 'U0REVIEWER1'; // any human may ask for changes; only approvers approve
const REVIEW = { id: 'C0REVIEWS01', name: 'incident-reports' };
const ORDER: Stage[] = ['seen', 'harvested', 'drafted', 'posted', 'approved', 'ticketed'];
const FEEDBACK = 'mention the Redis latency graph';
const SECOND_FEEDBACK = 'name the canary check that would have caught the lowered limit';

// ---------------------------------------------------------------------------------------------
// The scripted model: drafts built from the deterministic report of the sample incident

/** the deterministic report of the sample bundle: trigger, evidence lines and action items to reuse */
const base: Report = buildReport(analyzeBundle(reference));

const SUMMARY = 'Stock reads of inventory-api failed with Redis timeouts for about 26 minutes after a configuration deploy.';
const ROOT_CAUSE = 'A deploy cut the Redis command timeout of inventory-api far below the real command latency, so stock lookups timed out under normal load.';
const REVISED_ROOT_CAUSE = `${ROOT_CAUSE} The Redis latency graph shows p99 command latency well above the new limit for the whole incident window.`;
const SECOND_REVISED_ROOT_CAUSE = `${REVISED_ROOT_CAUSE} A canary comparing the new limit with the measured command latency would have stopped the rollout.`;
const WHYS = [
  ['Why did inventory-api answer with errors?', 'Its stock reads from Redis hit the client timeout.'],
  ['Why did the Redis reads hit the timeout?', 'The client allowed far less time per command than Redis needed.'],
  ['Why did the timeout change at that moment?', 'A deployment shipped the lowered limit just before the onset.'],
  ['Why was the change not caught before production?', 'Nothing compared the new limit with measured latency, and there was no canary.'],
  ['Why did recovery take so long?', 'Rolling back meant a manual revert and a full redeploy.'],
] as const;

function draftJson(revised: boolean, rootCause = revised ? REVISED_ROOT_CAUSE : ROOT_CAUSE): string {
  const t = base.trigger!;
  const draft = {
    summary: revised ? `${SUMMARY} The Redis latency graph confirms the timeouts.` : SUMMARY,
    root_cause: rootCause,
    trigger: { repo: t.repo!, deployment_id: t.deployment_id!, sha: t.sha!.slice(0, 12) },
    five_whys: base.five_whys.map((w, i) => ({ why: WHYS[i]![0], because: WHYS[i]![1], evidence: w.evidence.slice(0, 3) })),
    action_items: base.action_items.map((a) => ({ title: a.title, priority: a.priority, type: a.type, rationale: a.rationale, labels: a.labels })),
  };
  return '```json\n' + JSON.stringify(draft, null, 2) + '\n```';
}

const requestText = (req: FakeAnthropicRequest) => JSON.stringify(req.body.messages);

/**
 * One model turn of any drafting run: tool calls until the conversation holds `toolResults` tool
 * results (so it does not matter how the loop counts steps), then the draft; a call without tools
 * (the loop's forced last step or a repair turn) always gets the draft. A run that carries the
 * reviewer's feedback gets the revised draft (or whatever `answer` makes of the request).
 */
function modelTurn(toolResults = 2, answer: (req: FakeAnthropicRequest) => string = (req) => draftJson(requestText(req).includes(FEEDBACK))): (req: FakeAnthropicRequest) => FakeReply {
  const calls = [
    { name: 'find_triggering_commit', input: { incident_id: ID } },
    { name: 'get_incident_context', input: { incident_id: ID } },
    { name: 'build_timeline', input: { incident_id: ID, min_relevance: 'high' } },
  ];
  return (req) => {
    const seen = toolResultsOf(req).length;
    if (!req.body.tools?.length || seen >= toolResults) return { kind: 'text', text: answer(req) };
    return { kind: 'tools', text: seen === 0 ? 'Looking for the triggering change first.' : undefined, calls: [calls[seen % calls.length]!] };
  };
}

const scripted = (turn: ScriptEntry, n = 400): ScriptEntry[] => Array.from({ length: n }, () => turn);

// ---------------------------------------------------------------------------------------------
// The world: fakes, a home, the configuration and the environment of the CLI

interface World {
  pd: PagerDutyFake;
  incident: Record<string, unknown>;
  slack: SlackFake;
  gh: GithubFake;
  dd: DatadogFake;
  ai: AnthropicFake;
  jira: JiraFake;
  home: string;
  env: NodeJS.ProcessEnv;
}

const children: ChildProcess[] = [];
const worlds: World[] = [];

async function world(script: ScriptEntry[]): Promise<World> {
  const home = mkdtempSync(join(tmpdir(), 'hs-watch-llm-'));
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
  const ai = await createAnthropicFake({ apiKey: TOKENS.anthropic, script });
  const jira = await createJiraFake({ email: JIRA_EMAIL, apiToken: TOKENS.jira, projects: [JIRA_PROJECT], priorities: ['Highest', 'High', 'Medium', 'Low', 'Lowest'] });
  writeFileSync(
    join(home, 'hindsight.config.json'),
    JSON.stringify({
      services: { [reference.incident.service!]: { slack_channel: src.slack!.channel!.id, datadog: { queries: src.datadog!.metrics!.map((m) => m.expression), logs_query: '*' } } },
      datadog: { snapshots: 0 },
      windows: { after_resolve_minutes: 60, lookback_hours: 6 },
      watch: { interval_seconds: 0.5, max_attempts: 50 },
      review: { channel: `#${REVIEW.name}`, approvers: [APPROVER] },
      tickets: { system: 'jira', jira_project: JIRA_PROJECT, jira_priorities: JIRA_PRIORITIES },
      http: { timeout_ms: 3000, retries: 1 },
    }),
  );
  const env: NodeJS.ProcessEnv = {
    ...vendorEnv({ home, config: join(home, 'hindsight.config.json'), fakes: { pd, slack, gh, dd }, tokens: TOKENS, repos: src.github!.repos!.map((r) => r.full_name) }),
    ANTHROPIC_API_KEY: TOKENS.anthropic,
    ANTHROPIC_BASE_URL: ai.url,
    HINDSIGHT_MODEL: MODEL,
    JIRA_HOST: jira.url,
    JIRA_EMAIL,
    JIRA_API_TOKEN: TOKENS.jira,
  };
  const w = { pd, incident, slack, gh, dd, ai, jira, home, env };
  worlds.push(w);
  return w;
}

const startWatch = (w: World, extraEnv: Record<string, string> = {}, args: string[] = ['--apply']) => startWatchProcess(children, { ...w.env, ...extraEnv }, args);

const rowOf = (w: World): WatchedIncident | null => watchRow(w.home, ID);

const stageOf = (w: World): Stage | null => rowOf(w)?.stage ?? null;

function storedReport(w: World): Report | null {
  const store = IncidentStore.open(w.home);
  try {
    return store.getReport(ID)?.report ?? null;
  } finally {
    store.close();
  }
}

type Posted = PostedMessage;
const hindsightPosts = (w: World) => hindsightPostsIn(w.slack, REVIEW.id);
const blockText = (m: Posted) => JSON.stringify(m.blocks ?? []);
const chatUpdates = (w: World) => w.slack.requests.filter((r) => r.method === 'chat.update' && r.status === 200);
const feedbackRequests = (w: World) => w.ai.requests.filter((r) => requestText(r).includes(FEEDBACK));
const jiraIssues = (w: World) => w.jira.issues(JIRA_PROJECT);
const hsLabels = (i: JiraFakeIssue) => i.fields.labels.filter((l) => l.startsWith('hs-'));

/** The incident turns resolved now (the poller looks back from its checkpoint, not to 2024). */
function resolve(w: World) {
  w.incident.status = 'resolved';
  w.incident.resolved_at = new Date().toISOString();
  w.incident.last_status_change_at = w.incident.resolved_at;
}

/** A `changes:` reply in the draft's thread; returns its Slack ts. */
function requestChanges(w: World, user = REVIEWER, feedback = FEEDBACK): string {
  const post = hindsightPosts(w)[0]!;
  return w.slack.addReply(REVIEW.id, String(post.ts), { user, text: `changes: ${feedback}` });
}

function approve(w: World, user = APPROVER) {
  const post = hindsightPosts(w)[0]!;
  w.slack.addReaction(REVIEW.id, String(post.ts), 'white_check_mark', user);
}

/** Exactly one Jira issue per action item of the stored report, each with its own hs- label, priorities by name. */
function expectOneIssuePerActionItem(w: World, report: Report) {
  const filed = jiraIssues(w);
  expect(filed.length).toBeGreaterThanOrEqual(3);
  expect(filed.length).toBeLessThanOrEqual(5);
  expect(filed).toHaveLength(report.action_items.length);
  expect(filed.map((i) => i.fields.summary).sort()).toEqual(report.action_items.map((a) => a.title).sort());
  for (const item of report.action_items) {
    const issue = filed.find((i) => i.fields.summary === item.title)!;
    expect(issue.fields.priority?.name, item.title).toBe(JIRA_PRIORITIES[item.priority]);
    expect(issue.fields.labels).toContain('postmortem');
    expect(hsLabels(issue), item.title).toHaveLength(1);
  }
  expect(new Set(filed.map((i) => hsLabels(i)[0])).size).toBe(filed.length);
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const w of worlds.splice(0)) await Promise.all([w.pd.close(), w.slack.close(), w.gh.close(), w.dd.close(), w.ai.close(), w.jira.close()]);
});

describe('hindsight watch in LLM mode, filing in Jira', () => {
  it('drafts with Claude, revises the same Slack message on `changes:`, and files one Jira issue per action item on approval', async () => {
    const w = await world(scripted(modelTurn(2)));
    resolve(w);
    const run = startWatch(w);

    await until('the draft to be posted', () => stageOf(w) === 'posted', 60_000);
    expect(rowOf(w)!.engine).toBe('llm');
    const first = storedReport(w)!;
    expect(first.generated_by).toMatchObject({ engine: 'llm', model: MODEL });
    expect(first.root_cause).toBe(ROOT_CAUSE);
    expect(first.trigger).toMatchObject({ repo: base.trigger!.repo, deployment_id: base.trigger!.deployment_id, sha: base.trigger!.sha });
    // the drafting run used the tools before answering, with the configured model and key
    expect(w.ai.requests.length).toBeGreaterThanOrEqual(3);
    expect(w.ai.requests.every((r) => r.status === 200 && r.body.model === MODEL)).toBe(true);
    expect(w.ai.requests.flatMap((r) => toolResultsOf(r)).some((t) => t.name === 'find_triggering_commit' && !t.isError)).toBe(true);
    const posts = hindsightPosts(w);
    expect(posts).toHaveLength(1);
    const ts = String(posts[0]!.ts);
    expect(blockText(posts[0]!)).toContain(ROOT_CAUSE);
    expect(blockText(posts[0]!)).not.toContain('Redis latency graph');
    expect(chatUpdates(w)).toHaveLength(0);
    expect(feedbackRequests(w)).toHaveLength(0);

    // a reviewer (not an approver) asks for changes: re-drafted with the feedback, same message updated
    requestChanges(w);
    await until('the revised draft', () => rowOf(w)?.feedbackTs && chatUpdates(w).length > 0, 60_000);
    expect(feedbackRequests(w).length).toBeGreaterThanOrEqual(1);
    expect(requestText(feedbackRequests(w)[0]!)).toContain(`- ${FEEDBACK}`);
    expect(chatUpdates(w).every((r) => r.params.ts === ts && r.params.channel === REVIEW.id)).toBe(true);
    const revisedPosts = hindsightPosts(w);
    expect(revisedPosts).toHaveLength(1);
    expect(String(revisedPosts[0]!.ts)).toBe(ts);
    expect(blockText(revisedPosts[0]!)).toContain('Redis latency graph');
    expect(revisedPosts[0]!.metadata?.event_payload?.version).toBe(2);
    const revised = storedReport(w)!;
    expect(revised.generated_by.engine).toBe('llm');
    expect(revised.root_cause).toBe(REVISED_ROOT_CAUSE);
    expect(stageOf(w)).toBe('posted'); // feedback is not an approval

    // the approver's ✅ -> tickets
    approve(w);
    await until('tickets', () => stageOf(w) === 'ticketed', 60_000);
    expectOneIssuePerActionItem(w, revised);
    expect(rowOf(w)!.tickets.map((t) => t.key).sort()).toEqual(jiraIssues(w).map((i) => i.key).sort());

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(jiraIssues(w)).toHaveLength(revised.action_items.length);
    const logs = run.logs();
    for (const token of Object.values(TOKENS)) expect(logs).not.toContain(token);
    expect(logs).toMatch(/revised the draft after feedback/);
    // both drafting runs passed the checks on the first answer (no repair turn, no fallback)
    expect(logs).not.toMatch(/rejected|deterministic draft used/);
  }, 120_000);

  it('falls back to the deterministic draft when the Claude API fails, and still goes on to tickets', async () => {
    const w = await world(scripted({ kind: 'error', status: 500, message: 'scripted outage' }));
    resolve(w);
    const run = startWatch(w);
    await until('the draft to be posted', () => stageOf(w) === 'posted', 60_000);
    expect(w.ai.requests.length).toBeGreaterThanOrEqual(1);
    expect(w.ai.requests.every((r) => r.status === 500)).toBe(true);
    expect(rowOf(w)!.engine).toBe('deterministic');
    const report = storedReport(w)!;
    expect(report.generated_by.engine).toBe('deterministic');
    expect(report.generated_by.model).toBeNull();
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(blockText(hindsightPosts(w)[0]!)).not.toContain(ROOT_CAUSE);

    approve(w);
    await until('tickets', () => stageOf(w) === 'ticketed', 60_000);
    expectOneIssuePerActionItem(w, report);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.logs()).toMatch(/deterministic draft used: the Claude API returned an error \(500/);
  }, 120_000);

  it('loses nothing and duplicates nothing when SIGKILLed between every pair of stages', async () => {
    const w = await world(scripted(modelTurn(2)));
    resolve(w);
    const seen: Stage[] = [];
    let last: Stage | null = null;
    let reviewed = false;
    for (let round = 0; round < 12 && last !== 'ticketed'; round++) {
      releasePause(w.home, 'stage');
      const from = stageOf(w);
      // the process stops right after its first checkpoint and is killed there without warning
      const run = startWatch(w, pauseAt('stage'));
      const paused = await until('the next checkpoint', () => pausedAt(w.home, 'stage'), 60_000);
      const next = stageOf(w)!;
      expect(next).toBe(paused.stage);
      expect(next).not.toBe(from);
      run.child.kill('SIGKILL');
      await run.exited;
      seen.push(next);
      last = next;
      if (next === 'posted' && !reviewed) {
        reviewed = true;
        expect(storedReport(w)!.generated_by.engine).toBe('llm');
        // the review round in a life of its own: feedback -> revision of the same message -> kill
        requestChanges(w);
        const revising = startWatch(w, pauseAt('stage'));
        await until('the revised draft', () => rowOf(w)?.feedbackTs && chatUpdates(w).length > 0, 60_000);
        revising.child.kill('SIGKILL');
        await revising.exited;
        expect(stageOf(w)).toBe('posted');
        expect(feedbackRequests(w).length).toBeGreaterThanOrEqual(1);
        approve(w);
      }
    }
    expect(last).toBe('ticketed');
    // every stage was a separate process life
    expect(seen).toEqual(ORDER.slice(ORDER.indexOf(seen[0]!)));
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(blockText(hindsightPosts(w)[0]!)).toContain('Redis latency graph');
    const report = storedReport(w)!;
    expect(report.generated_by.engine).toBe('llm');
    expect(report.root_cause).toBe(REVISED_ROOT_CAUSE);
    expectOneIssuePerActionItem(w, report);
    const filed = jiraIssues(w).length;
    // one more life changes nothing
    const again = startWatch(w);
    await moreCycles(w.home, watcherState(w.home), { cycles: 2, polls: 1 });
    again.child.kill('SIGTERM');
    await again.exited;
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(jiraIssues(w)).toHaveLength(filed);
    expect(chatUpdates(w).every((r) => r.params.ts === String(hindsightPosts(w)[0]!.ts))).toBe(true);
  }, 180_000);

  it('answers a second `changes:` reply that arrives while the first revision is being drafted with a later revision', async () => {
    // The model that answers the first revision: on its first request (which carries the first
    // feedback), a second reviewer reply lands in the thread, i.e. after the pipeline read the
    // review and before it publishes the revision.
    let secondTs: string | null = null;
    const turn = modelTurn(2, (req) => (requestText(req).includes(SECOND_FEEDBACK) ? draftJson(true, SECOND_REVISED_ROOT_CAUSE) : draftJson(requestText(req).includes(FEEDBACK))));
    const w: World = await world(
      scripted((req) => {
        if (secondTs === null && requestText(req).includes(FEEDBACK)) secondTs = requestChanges(w, REVIEWER, SECOND_FEEDBACK);
        return turn(req);
      }),
    );
    const secondRequests = () => w.ai.requests.filter((r) => requestText(r).includes(SECOND_FEEDBACK));
    resolve(w);
    const run = startWatch(w);

    await until('the draft to be posted', () => stageOf(w) === 'posted', 60_000);
    expect(storedReport(w)!.generated_by.engine).toBe('llm');
    const ts = String(hindsightPosts(w)[0]!.ts);
    const firstTs = requestChanges(w);

    await until('the first revision', () => chatUpdates(w).length >= 1, 60_000);
    expect(secondTs).not.toBeNull();
    expect(Number(secondTs)).toBeGreaterThan(Number(firstTs));
    // the first revision saw only the first feedback
    expect(requestText(feedbackRequests(w)[0]!)).not.toContain(SECOND_FEEDBACK);

    // the second feedback stays open and gets a revision of its own, on the same message
    await until('the second feedback to be answered', () => rowOf(w)?.feedbackTs === secondTs && chatUpdates(w).length >= 2, 90_000);
    expect(secondRequests().length).toBeGreaterThanOrEqual(1);
    expect(requestText(secondRequests()[0]!)).toContain(`- ${SECOND_FEEDBACK}`);
    expect(secondRequests().every((r) => r.status === 200)).toBe(true);
    expect(chatUpdates(w).every((r) => r.params.ts === ts && r.params.channel === REVIEW.id)).toBe(true);
    const posts = hindsightPosts(w);
    expect(posts).toHaveLength(1);
    expect(String(posts[0]!.ts)).toBe(ts);
    expect(blockText(posts[0]!)).toContain('A canary comparing the new limit');
    expect(posts[0]!.metadata?.event_payload?.version).toBe(3);
    const report = storedReport(w)!;
    expect(report.generated_by.engine).toBe('llm');
    expect(report.root_cause).toBe(SECOND_REVISED_ROOT_CAUSE);
    expect(stageOf(w)).toBe('posted');

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(hindsightPosts(w)).toHaveLength(1);
    expect(run.logs().match(/revised the draft after feedback/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  }, 150_000);

  it('keeps the Claude draft and the feedback open when only the revision fails, and revises once the API recovers', async () => {
    let claudeDown = true;
    const turn = modelTurn(2);
    const w = await world(
      scripted((req) => (claudeDown && requestText(req).includes(FEEDBACK) ? { kind: 'error', status: 500, message: 'scripted outage during the revision' } : turn(req))),
    );
    const failedRevisions = (logs: string) => logs.match(/will retry: the revision could not be drafted with Claude/g)?.length ?? 0;
    resolve(w);
    const run = startWatch(w);

    await until('the draft to be posted', () => stageOf(w) === 'posted', 60_000);
    expect(storedReport(w)!.generated_by.engine).toBe('llm');
    const ts = String(hindsightPosts(w)[0]!.ts);
    const feedbackTs = requestChanges(w);

    // the first revision attempt ends, one way or the other
    await until('the revision attempt to end', () => /will retry: the revision could not be drafted|revised the draft after feedback/.test(run.logs()), 60_000);
    const keptClaudeDraft = () => {
      expect(feedbackRequests(w).length).toBeGreaterThanOrEqual(1);
      expect(feedbackRequests(w).every((r) => r.status === 500)).toBe(true);
      const report = storedReport(w)!;
      expect(report.generated_by).toMatchObject({ engine: 'llm', model: MODEL });
      expect(report.root_cause).toBe(ROOT_CAUSE);
      expect(rowOf(w)!.engine).toBe('llm');
      expect(rowOf(w)!.feedbackTs).toBeNull(); // the feedback is still open
      expect(stageOf(w)).toBe('posted');
      expect(chatUpdates(w)).toHaveLength(0);
      const posts = hindsightPosts(w);
      expect(posts).toHaveLength(1);
      expect(blockText(posts[0]!)).toContain(ROOT_CAUSE);
      expect(blockText(posts[0]!)).not.toContain('Redis latency graph');
      expect(posts[0]!.metadata?.event_payload?.version).toBe(1);
    };
    keptClaudeDraft();
    // ... and stays so while the revision is retried
    await until('a retried revision to fail too', () => failedRevisions(run.logs()) >= 2, 60_000);
    keptClaudeDraft();

    // the API recovers: the retried revision goes through and updates the same message
    claudeDown = false;
    await until('the revised draft', () => rowOf(w)?.feedbackTs === feedbackTs && chatUpdates(w).length > 0, 90_000);
    expect(feedbackRequests(w).some((r) => r.status === 200)).toBe(true);
    expect(feedbackRequests(w).at(-1)!.status).toBe(200);
    expect(chatUpdates(w).every((r) => r.params.ts === ts && r.params.channel === REVIEW.id)).toBe(true);
    const posts = hindsightPosts(w);
    expect(posts).toHaveLength(1);
    expect(String(posts[0]!.ts)).toBe(ts);
    expect(blockText(posts[0]!)).toContain('Redis latency graph');
    expect(blockText(posts[0]!)).toContain(REVISED_ROOT_CAUSE);
    expect(posts[0]!.metadata?.event_payload?.version).toBe(2);
    const revised = storedReport(w)!;
    expect(revised.generated_by).toMatchObject({ engine: 'llm', model: MODEL });
    expect(revised.root_cause).toBe(REVISED_ROOT_CAUSE);
    expect(stageOf(w)).toBe('posted');

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.logs()).toMatch(/revised the draft after feedback/);
  }, 150_000);
});
