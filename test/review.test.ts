// The Slack review loop with the real @slack/web-api client against the loopback fake.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle } from '../src/core/bundle.js';
import { renderMarkdown } from '../src/core/markdown.js';
import type { Report } from '../src/core/report.js';
import { VendorError } from '../src/harvest/retry.js';
import type { HttpPolicy } from '../src/harvest/types.js';
import {
  APPROVE_HINT,
  DRAFT_EVENT,
  FILE_EVENT,
  INLINE_CHUNK_MAX,
  MAX_VISUAL_UPLOAD_BYTES,
  TIMELINE_EVENT,
  draftDigest,
  escapeMrkdwn,
  publishDraft,
  readDecision,
  reportFilename,
  type PublishOptions,
} from '../src/review/slackReview.js';
import { reviewVisuals } from '../src/review/chartPng.js';
import { readPng } from './helpers/png.js';
import { ALL_REVIEW_SCOPES, createSlackFake, type FakeChannel, type FakeMessage, type SlackFake, type SlackFakeOptions } from './fakes/slackFake.js';

const TOKEN = 'xoxb-0000000001-0000000002-reviewFAKEtokenDoNotLeak';
const POLICY: HttpPolicy = { timeoutMs: 2000, retries: 2, baseDelayMs: 20, maxDelayMs: 100 };
const REVIEW: FakeChannel = { id: 'C0REVIEW0001', name: 'incident-reports', created: 1_700_000_000 };
const APPROVER = 'U0APPROVER1';
const GROUP = 'S0APPROVERS';
const GROUP_MEMBER = 'U0GROUPMEMB';
const STRANGER = 'U0STRANGER1';
const APPROVERS = { users: [APPROVER], groups: [GROUP] };

const bundleJson = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as {
  sources: { slack: { users: Record<string, { name: string; real_name: string }> } };
};
const report: Report = buildReport(analyzeBundle(validateBundle(bundleJson)));
const markdown = renderMarkdown(report);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const filename = reportFilename(report.incident.id);

const logs: string[] = [];
const log = (m: string) => logs.push(m);

const fakes: SlackFake[] = [];
async function fake(over: Partial<SlackFakeOptions> = {}): Promise<SlackFake> {
  // the review channel comes after 250 others, so resolving "#incident-reports" has to page
  const decoys: FakeChannel[] = Array.from({ length: 250 }, (_, k) => ({ id: `C0DECOY${String(k).padStart(5, '0')}`, name: `team-${k}` }));
  const f = await createSlackFake({
    token: TOKEN,
    channel: clone(REVIEW),
    messages: [],
    users: {},
    extraChannels: decoys,
    pageSize: 100,
    scopes: ALL_REVIEW_SCOPES,
    usergroups: { [GROUP]: [GROUP_MEMBER, 'U0OTHERMEMB'] },
    ...over,
  });
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const creds = (f: SlackFake) => ({ token: TOKEN, apiUrl: f.url });
const opts = (over: Partial<PublishOptions> = {}): PublishOptions => ({ channel: '#incident-reports', policy: POLICY, log, ...over });
const isTop = (m: FakeMessage) => m.thread_ts === undefined || m.thread_ts === m.ts;
const topLevel = (f: SlackFake) => f.messagesIn(REVIEW.id).filter(isTop);
const thread = (f: SlackFake, ts: string) => f.messagesIn(REVIEW.id).filter((m) => m.thread_ts === ts && m.ts !== ts);
const meta = (m: FakeMessage) => m.metadata as { event_type: string; event_payload: Record<string, unknown> } | undefined;
const fileShares = (msgs: FakeMessage[]) => msgs.filter((m) => Array.isArray(m.files) && (m.files as Array<{ name: string }>).some((x) => x.name === filename));
const timelines = (msgs: FakeMessage[]) => msgs.filter((m) => meta(m)?.event_type === TIMELINE_EVENT);
const methods = (f: SlackFake, from = 0) => f.requests.slice(from).map((r) => r.method);

/** Every string the fake received in a write: texts, blocks, metadata, file contents. */
function everythingPosted(f: SlackFake): string {
  const parts: string[] = [];
  for (const r of f.requests) if (['chat.postMessage', 'chat.update', 'files.completeUploadExternal'].includes(r.method)) parts.push(JSON.stringify(r.params));
  for (const file of f.files.values()) parts.push(file.content ?? '');
  return parts.join('\n');
}

let consoleSpies: MockInstance[] = [];
beforeAll(() => {
  consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((k) => vi.spyOn(console, k));
});
afterAll(() => {
  for (const s of consoleSpies) s.mockRestore();
});

describe('publishDraft', () => {
  it('(a) posts once with blocks + metadata, then the Markdown file and the timeline in the thread', async () => {
    const f = await fake();
    const res = await publishDraft(creds(f), report, markdown, opts());
    expect(res).toMatchObject({ channel: REVIEW.id, created: true, notes: [] });

    const top = topLevel(f);
    expect(top).toHaveLength(1);
    const post = top[0]!;
    expect(post.ts).toBe(res.ts);
    expect(meta(post)).toEqual({
      event_type: DRAFT_EVENT,
      event_payload: { incident_id: report.incident.id, version: 1, engine_version: report.generated_by.version, digest: draftDigest(report, markdown) },
    });
    const blocks = post.blocks as Array<{ type: string; text?: { text: string }; elements?: Array<{ text: string }> }>;
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'section', 'context']);
    expect(blocks[0]!.text!.text).toBe(`Post-mortem draft: ${escapeMrkdwn(report.incident.title)}`);
    expect(blocks[1]!.text!.text).toBe(`*Impact*\n${escapeMrkdwn(report.impact)}`);
    if (report.trigger) {
      expect(blocks[2]!.text!.text).toContain(`(confidence ${report.trigger.confidence.toFixed(2)})`);
      expect(blocks[2]!.text!.text).toContain(report.trigger.sha!.slice(0, 12));
    } else {
      expect(blocks[2]!.text!.text).toContain('No change triggered this incident');
    }
    expect(blocks[3]!.text!.text).toBe(`*Root cause*\n${escapeMrkdwn(report.root_cause)}`);
    for (const a of report.action_items) expect(blocks[4]!.text!.text).toContain(`• *${a.priority}* (${a.type}) ${escapeMrkdwn(a.title)}`);
    expect(blocks[5]!.elements![0]!.text).toBe(APPROVE_HINT);
    expect(String(post.text)).toContain(report.incident.id);

    // the thread: the file, then the timeline
    const replies = thread(f, post.ts);
    expect(replies).toHaveLength(2);
    expect(fileShares(replies)).toHaveLength(1);
    expect(replies[0]!.files).toMatchObject([{ name: filename }]);
    expect(timelines(replies)).toHaveLength(1);
    const high = report.timeline.filter((e) => e.relevance === 'high');
    const timelineText = (replies[1]!.blocks as Array<{ text: { text: string } }>).map((b) => b.text.text).join('\n');
    expect(timelineText).toContain(`${high.length} high-relevance of ${report.timeline.length} events`);
    for (const e of high.slice(0, 5)) expect(timelineText).toContain(escapeMrkdwn(e.summary).slice(0, 40));
    expect(f.files.size).toBe(1);
    const file = [...f.files.values()][0]!;
    expect(file).toMatchObject({ filename, completed: true, content: markdown });

    // how: the channel resolved through pages of conversations.list, history read for an earlier
    // draft (with metadata), then the uploadV2 flow in the thread
    const m = methods(f);
    expect(m.filter((x) => x === 'conversations.list').length).toBe(3);
    expect(m.slice(m.indexOf('conversations.history'))).toEqual([
      'conversations.history',
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
      'conversations.replies',
      'chat.postMessage',
    ]);
    expect(f.requests.find((r) => r.method === 'conversations.history')!.params).toMatchObject({ channel: REVIEW.id, limit: '200', include_all_metadata: 'true' });
    expect(f.requests.find((r) => r.method === 'files.completeUploadExternal')!.params).toMatchObject({ channel_id: REVIEW.id, thread_ts: post.ts });
    expect(f.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('(a) keeps to the Block Kit limits: long text is cut with an ellipsis, at most 50 blocks', async () => {
    const f = await fake();
    const big = clone(report);
    big.root_cause = 'The cache <pool> & its clients. '.repeat(400);
    big.incident.title = `A very long title ${'x'.repeat(300)}`;
    big.action_items = Array.from({ length: 400 }, (_, k) => ({ title: `Action ${k} ${'y'.repeat(200)}`, priority: 'P2' as const, type: 'prevent' as const, rationale: 'r', labels: [] }));
    big.timeline = Array.from({ length: 2000 }, (_, k) => ({ at: '2024-11-14T18:00:00.000Z', source: 'logs' as const, kind: 'log' as const, summary: `event ${k} ${'z'.repeat(100)}`, relevance: 'high' as const }));
    const res = await publishDraft(creds(f), big, markdown, opts());
    const post = topLevel(f)[0]!;
    const blocks = post.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(150);
    expect(blocks[0]!.text!.text.endsWith('…')).toBe(true);
    const root = blocks.find((b) => b.text?.text.startsWith('*Root cause*'))!;
    expect(root.text!.text.length).toBeLessThanOrEqual(3000);
    expect(root.text!.text.endsWith('…')).toBe(true);
    expect(root.text!.text).not.toMatch(/&[a-z]{0,3}…$/); // never cut inside &amp;
    for (const b of blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    const tl = timelines(thread(f, res.ts))[0]!;
    expect((tl.blocks as unknown[]).length).toBeLessThanOrEqual(50);
  });

  it('(b) with `existing` it updates the message in place and creates nothing new', async () => {
    const f = await fake();
    const first = await publishDraft(creds(f), report, markdown, opts());
    const from = f.requests.length;
    const revised = clone(report);
    revised.root_cause = `${report.root_cause} (revised)`;
    const again = await publishDraft(creds(f), revised, markdown, opts({ existing: { channel: first.channel, ts: first.ts } }));
    expect(again).toMatchObject({ channel: first.channel, ts: first.ts, created: false, updated: true });

    const m = methods(f, from);
    expect(m).toContain('chat.update');
    expect(m).not.toContain('chat.postMessage');
    expect(m.some((x) => x.startsWith('files.') || x === 'upload')).toBe(false);
    expect(m).not.toContain('conversations.list');
    expect(topLevel(f)).toHaveLength(1);
    expect(thread(f, first.ts)).toHaveLength(2);
    const post = topLevel(f)[0]!;
    expect(post.edited).toBeDefined();
    expect(meta(post)!.event_payload.version).toBe(2);
    expect(JSON.stringify(post.blocks)).toContain('(revised)');

    // a recorded draft that no longer exists is an error, never a repost
    const gone = await publishDraft(creds(f), report, markdown, opts({ existing: { channel: REVIEW.id, ts: '1700000000.000001' } })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(VendorError);
    expect((gone as VendorError).retryable).toBe(false);
    expect(topLevel(f)).toHaveLength(1);
  });

  it('(c) without `existing` (crash before the ts was stored) it finds the post by metadata; an unchanged draft is left alone', async () => {
    const f = await fake();
    // other traffic in the channel, including another incident's draft
    const other = clone(report);
    other.incident.id = 'OTHER00000001';
    await publishDraft(creds(f), other, markdown, opts());
    const first = await publishDraft(creds(f), report, markdown, opts());
    f.addReply(REVIEW.id, first.ts, { user: STRANGER, text: 'looking at it' });
    const asked = f.addReply(REVIEW.id, first.ts, { user: STRANGER, text: 'changes: name the cache' });

    // the same draft again: found, nothing posted, nothing updated (no edited.ts, still revision 1)
    let from = f.requests.length;
    const again = await publishDraft(creds(f), report, markdown, opts());
    expect(again).toMatchObject({ channel: REVIEW.id, ts: first.ts, created: false, updated: false });
    expect(methods(f, from)).not.toContain('chat.update');
    expect(methods(f, from)).not.toContain('chat.postMessage');
    expect(methods(f, from).some((x) => x.startsWith('files.'))).toBe(false);
    const mine = () => topLevel(f).filter((m) => meta(m)?.event_payload.incident_id === report.incident.id);
    expect(mine()).toHaveLength(1);
    expect(mine()[0]!.edited).toBeUndefined();
    expect(meta(mine()[0]!)!.event_payload.version).toBe(1);

    // a changed draft found again is updated in place
    const changed = clone(report);
    changed.root_cause = `${report.root_cause} (changed)`;
    from = f.requests.length;
    const third = await publishDraft(creds(f), changed, markdown, opts());
    expect(third).toMatchObject({ ts: first.ts, created: false, updated: true });
    expect(methods(f, from)).toContain('chat.update');
    expect(methods(f, from)).not.toContain('chat.postMessage');
    expect(mine()).toHaveLength(1);
    expect(topLevel(f)).toHaveLength(2);
    expect(fileShares(thread(f, first.ts))).toHaveLength(1);
    expect(timelines(thread(f, first.ts))).toHaveLength(1);
    expect(meta(mine()[0]!)!.event_payload.version).toBe(2);
    // a re-publish after a crash is not a revision: the feedback it never read stays outstanding
    expect(await readDecision(creds(f), { channel: again.channel, ts: again.ts }, APPROVERS, POLICY)).toMatchObject({ status: 'changes_requested', feedback: ['name the cache'], lastFeedbackTs: asked });
  });

  it('(c) an approval given before a crash-recovery re-publish still counts (crash window 1)', async () => {
    const f = await fake();
    const first = await publishDraft(creds(f), report, markdown, opts());
    // the approver answers before the caller recorded the post; the caller then restarts
    f.addReply(REVIEW.id, first.ts, { user: APPROVER, text: 'approve' });
    const from = f.requests.length;
    const again = await publishDraft(creds(f), report, markdown, opts());
    expect(again).toMatchObject({ ts: first.ts, created: false, updated: false });
    expect(methods(f, from)).not.toContain('chat.update');
    expect(topLevel(f)[0]!.edited).toBeUndefined();
    expect(await readDecision(creds(f), again, APPROVERS, POLICY)).toMatchObject({ status: 'approved', approverId: APPROVER });

    // counted from the first post, not from the last edit: a revision made after the reply keeps it
    const changed = clone(report);
    changed.root_cause = `${report.root_cause} (changed)`;
    await publishDraft(creds(f), changed, markdown, opts({ existing: again }));
    expect(topLevel(f)[0]!.edited).toBeDefined();
    expect(await readDecision(creds(f), again, APPROVERS, POLICY)).toMatchObject({ status: 'approved', approverId: APPROVER });
  });

  it('(c) finds the earlier post several short history pages back in a busy channel (crash window 2)', async () => {
    // Slack may answer with fewer messages than `limit` and a next_cursor: here 4 per page
    const f = await fake({ historyPageMax: 4 });
    const since = (Date.now() / 1000 - 3600).toFixed(6);
    for (let i = 0; i < 5; i++) f.addMessage(REVIEW.id, { user: STRANGER, text: `older traffic ${i}` });
    const first = await publishDraft(creds(f), report, markdown, opts({ since }));
    for (let i = 0; i < 13; i++) f.addMessage(REVIEW.id, { user: STRANGER, text: `busy channel ${i}` });

    const from = f.requests.length;
    const again = await publishDraft(creds(f), report, markdown, opts({ since }));
    expect(again).toMatchObject({ ts: first.ts, created: false, updated: false });
    const history = f.requests.slice(from).filter((r) => r.method === 'conversations.history');
    expect(history.length).toBeGreaterThanOrEqual(4); // the post is on page 4
    expect(history.every((r) => r.params.oldest === since)).toBe(true);
    expect(history.slice(1).every((r) => Boolean(r.params.cursor))).toBe(true);
    expect(methods(f, from)).not.toContain('chat.postMessage');
    expect(topLevel(f).filter((m) => meta(m)?.event_type === DRAFT_EVENT)).toHaveLength(1);

    // without a draft in the window, every page is read and then the draft is posted, once
    const other = clone(report);
    other.incident.id = 'OTHER00000002';
    const before = f.requests.length;
    const inWindow = topLevel(f).length;
    const posted = await publishDraft(creds(f), other, markdown, opts({ since }));
    expect(posted.created).toBe(true);
    const pages = f.requests.slice(before).filter((r) => r.method === 'conversations.history');
    expect(pages.length).toBe(Math.ceil(inWindow / 4));
    expect(topLevel(f).filter((m) => meta(m)?.event_type === DRAFT_EVENT)).toHaveLength(2);
  });
});

describe('readDecision', () => {
  async function posted(over: Partial<SlackFakeOptions> = {}) {
    const f = await fake(over);
    const post = await publishDraft(creds(f), report, markdown, opts());
    return { f, post };
  }

  it('(d) only approvers approve: a stranger is ignored, a listed user or a group member counts', async () => {
    const { f, post } = await posted();
    expect(await readDecision(creds(f), post, APPROVERS, POLICY)).toEqual({ status: 'pending', approverId: null, feedback: [], lastFeedbackTs: null });

    // a non-approver's ✅ and `approve` reply change nothing
    f.addReaction(REVIEW.id, post.ts, 'white_check_mark', STRANGER);
    f.addReply(REVIEW.id, post.ts, { user: STRANGER, text: 'approve' });
    expect((await readDecision(creds(f), post, APPROVERS, POLICY)).status).toBe('pending');
    // another emoji from an approver is not an approval
    f.addReaction(REVIEW.id, post.ts, 'thumbsup', APPROVER);
    expect((await readDecision(creds(f), post, APPROVERS, POLICY)).status).toBe('pending');

    // the approver's ✅ (skin-tone variant)
    f.addReaction(REVIEW.id, post.ts, 'white_check_mark::skin-tone-4', APPROVER);
    expect(await readDecision(creds(f), post, APPROVERS, POLICY)).toEqual({ status: 'approved', approverId: APPROVER, feedback: [], lastFeedbackTs: null });

    // fail closed: with no approvers configured nobody can approve
    expect((await readDecision(creds(f), post, { users: [], groups: [] }, POLICY)).status).toBe('pending');

    // a member of an approver group, by reply (mentioning the bot, any case)
    const g = await posted();
    g.f.addReply(REVIEW.id, g.post.ts, { user: STRANGER, text: 'lgtm' });
    expect((await readDecision(creds(g.f), g.post, APPROVERS, POLICY)).status).toBe('pending');
    g.f.addReply(REVIEW.id, g.post.ts, { user: GROUP_MEMBER, text: `  <@${g.f.bot.userId}> LGTM! ` });
    expect(await readDecision(creds(g.f), g.post, APPROVERS, POLICY)).toEqual({ status: 'approved', approverId: GROUP_MEMBER, feedback: [], lastFeedbackTs: null });
    expect(g.f.requests.filter((r) => r.method === 'usergroups.users.list').map((r) => r.params.usergroup)).toContain(GROUP);

    // heavy_check_mark by a group member
    const h = await posted();
    h.f.addReaction(REVIEW.id, h.post.ts, 'heavy_check_mark', GROUP_MEMBER);
    expect(await readDecision(creds(h.f), h.post, { users: [], groups: [GROUP] }, POLICY)).toMatchObject({ status: 'approved', approverId: GROUP_MEMBER });
    // the bot's own check mark never counts
    const b = await posted();
    b.f.addReaction(REVIEW.id, b.post.ts, 'white_check_mark', b.f.bot.userId);
    expect((await readDecision(creds(b.f), b.post, APPROVERS, POLICY)).status).toBe('pending');
  });

  it('(e) `changes:` replies are feedback; an approval after them wins; a revision addresses them', async () => {
    const { f, post } = await posted();
    const t1 = f.addReply(REVIEW.id, post.ts, { user: STRANGER, text: 'changes: please add the DB graph' });
    expect(await readDecision(creds(f), post, APPROVERS, POLICY)).toEqual({ status: 'changes_requested', approverId: null, feedback: ['please add the DB graph'], lastFeedbackTs: t1 });

    // a ✅ cannot be dated, so it does not outrank outstanding feedback
    f.addReaction(REVIEW.id, post.ts, 'white_check_mark', APPROVER);
    expect((await readDecision(creds(f), post, APPROVERS, POLICY)).status).toBe('changes_requested');

    // the revision addresses t1; feedback written meanwhile (t2) stays outstanding
    const t2 = f.addReply(REVIEW.id, post.ts, { user: STRANGER, text: `<@${f.bot.userId}> Changes: say which pool &amp; why` });
    await publishDraft(creds(f), report, markdown, opts({ existing: post, addressedFeedbackTs: t1 }));
    expect(await readDecision(creds(f), post, APPROVERS, POLICY)).toEqual({ status: 'changes_requested', approverId: null, feedback: ['say which pool & why'], lastFeedbackTs: t2 });

    // an approver's `approve` after the last `changes:` wins
    f.addReply(REVIEW.id, post.ts, { user: APPROVER, text: 'Approved.' });
    expect(await readDecision(creds(f), post, APPROVERS, POLICY)).toMatchObject({ status: 'approved', approverId: APPROVER, feedback: ['say which pool & why'] });
    // … until someone asks for changes again
    const t3 = f.addReply(REVIEW.id, post.ts, { user: GROUP_MEMBER, text: 'changes: one more thing' });
    expect(await readDecision(creds(f), post, APPROVERS, POLICY)).toMatchObject({ status: 'changes_requested', feedback: ['say which pool & why', 'one more thing'], lastFeedbackTs: t3 });

    // a revision without addressedFeedbackTs addresses everything in the thread: back to
    // pending (the ✅ would count again, so use a draft without one)
    const g = await posted();
    g.f.addReply(REVIEW.id, g.post.ts, { user: STRANGER, text: 'changes: please add the DB graph' });
    const revised = clone(report);
    revised.root_cause = `${report.root_cause} See the DB graph.`;
    await publishDraft(creds(g.f), revised, markdown, opts({ existing: g.post }));
    expect(await readDecision(creds(g.f), g.post, APPROVERS, POLICY)).toEqual({ status: 'pending', approverId: null, feedback: [], lastFeedbackTs: null });
  });
});

describe('failures and fallbacks', () => {
  it('(f) Slack down at posting time: a retryable VendorError, nothing posted; a retry later posts exactly once', async () => {
    const f = await fake({ faults: { downFor: ['chat.postMessage'] } });
    const err = await publishDraft(creds(f), report, markdown, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect(err).toMatchObject({ source: 'slack', retryable: true, status: 503 });
    expect(String((err as Error).message)).toMatch(/chat\.postMessage: HTTP 503/);
    expect(f.messagesIn(REVIEW.id)).toEqual([]);
    expect(f.files.size).toBe(0);
    expect(f.requests.filter((r) => r.method === 'chat.postMessage')).toHaveLength(POLICY.retries + 1);
    // before each retry the channel was checked for a post whose answer was lost
    expect(f.requests.filter((r) => r.method === 'conversations.history')).toHaveLength(1 + POLICY.retries);

    f.faults.downFor = [];
    const res = await publishDraft(creds(f), report, markdown, opts());
    expect(res.created).toBe(true);
    expect(topLevel(f)).toHaveLength(1);
    expect(fileShares(thread(f, res.ts))).toHaveLength(1);
    expect(timelines(thread(f, res.ts))).toHaveLength(1);
  });

  it('(f) a failure after the post (file upload down) is finished by the next run, still one of each', async () => {
    const f = await fake({ faults: { downFor: ['files.getUploadURLExternal'] } });
    const err = await publishDraft(creds(f), report, markdown, opts()).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, status: 503 });
    expect(topLevel(f)).toHaveLength(1); // the draft is there, its thread is not complete yet
    expect(thread(f, topLevel(f)[0]!.ts)).toHaveLength(0);

    f.faults.downFor = [];
    const res = await publishDraft(creds(f), report, markdown, opts());
    expect(res.created).toBe(false);
    expect(topLevel(f)).toHaveLength(1);
    expect(fileShares(thread(f, res.ts))).toHaveLength(1);
    expect(timelines(thread(f, res.ts))).toHaveLength(1);
    expect([...f.files.values()].filter((x) => x.completed)).toHaveLength(1);
  });

  it('(f) the upload URL failing transiently is retried within the call; exactly one file is shared', async () => {
    const f = await fake({ faults: { downFor: ['upload'] } });
    // the fault clears when the first retry is announced
    const res = await publishDraft(creds(f), report, markdown, opts({ log: (m) => {
      log(m);
      if (m.includes('files.uploadV2')) f.faults.downFor = [];
    } }));
    expect(res.created).toBe(true);
    expect(f.requests.filter((r) => r.method === 'upload').map((r) => r.status)).toEqual([503, 200]);
    expect(fileShares(thread(f, res.ts))).toHaveLength(1);
    expect([...f.files.values()].map((x) => x.completed)).toEqual([false, true]); // the failed attempt's file is never shared
    expect(timelines(thread(f, res.ts))).toHaveLength(1);
  });

  it('(g) without files:write the Markdown is posted inline as code-block messages (≤ 3,500 characters)', async () => {
    const f = await fake({ scopes: ALL_REVIEW_SCOPES.filter((s) => s !== 'files:write') });
    const res = await publishDraft(creds(f), report, markdown, opts());
    expect(res.created).toBe(true);
    expect(res.notes).toHaveLength(1);
    expect(res.notes[0]).toMatch(/files:write/);
    expect(f.requests.filter((r) => r.method === 'files.getUploadURLExternal')).toHaveLength(1); // missing_scope: not retried
    expect(f.requests.some((r) => r.method === 'files.completeUploadExternal')).toBe(false);

    const replies = thread(f, res.ts);
    // ordered by part number: thread order is by ts, which this fake may give equal values
    const chunks = replies
      .filter((m) => meta(m)?.event_type === FILE_EVENT)
      .sort((a, b) => Number(meta(a)!.event_payload!.part) - Number(meta(b)!.event_payload!.part));
    expect(chunks.length).toBeGreaterThan(3);
    chunks.forEach((m, i) => {
      const text = String(m.text);
      expect(text.length).toBeLessThanOrEqual(INLINE_CHUNK_MAX);
      expect(meta(m)!.event_payload).toMatchObject({ incident_id: report.incident.id, part: i + 1, parts: chunks.length });
      expect(text.endsWith('\n```')).toBe(true);
    });
    expect(String(chunks[0]!.text)).toMatch(/^_The Slack app cannot upload files \(no files:write scope\)/);
    const body = chunks.map((m) => String(m.text).replace(/^[\s\S]*?```\n/, '').replace(/\n```$/, '')).join('\n');
    expect(body).toBe(escapeMrkdwn(markdown).replace(/```/g, '`\u200b``'));
    expect(timelines(replies)).toHaveLength(1);

    // idempotent: a second run adds nothing
    const count = f.messagesIn(REVIEW.id).length;
    await publishDraft(creds(f), report, markdown, opts());
    expect(f.messagesIn(REVIEW.id)).toHaveLength(count);
  });

  it('(h) nothing but the redacted report is posted: no person, no secret, no live mention', async () => {
    const f = await fake();
    await publishDraft(creds(f), report, markdown, opts());
    const posted = everythingPosted(f);
    const reportText = JSON.stringify(report) + markdown;
    const secrets = ['AKIAZKLBQSZTO4WZZGUE', 'al1GNlulrVSpf6JI7rzenN0l+56aWlJFgDDDArBn', 'ghp_7vURIApvXpO9pFvnU40Qrt24fzsDaVBiggQD'];
    const people = Object.values(bundleJson.sources.slack.users).flatMap((u) => [u.name, u.real_name, ...u.real_name.split(' ')]);
    for (const s of [...secrets, ...people]) {
      expect(reportText).not.toContain(s); // sanity: the report has them only redacted
      expect(posted).not.toContain(s);
    }
    expect(posted).not.toMatch(/<@U[A-Z0-9]+/);

    // the last guard and the escaping: a report that (wrongly) carried a secret and a broadcast
    const g = await fake();
    const bad = clone(report);
    bad.incident.title = '<!channel> cache down & <@U0Y83SBP0Z2>';
    bad.root_cause = `A key AKIAZKLBQSZTO4WZZGUE was in the config. ${report.root_cause}`;
    await publishDraft(creds(g), bad, `${markdown}\nleftover ghp_7vURIApvXpO9pFvnU40Qrt24fzsDaVBiggQD\n`, opts());
    const out = everythingPosted(g);
    for (const s of secrets) expect(out).not.toContain(s);
    expect(out).toContain('[REDACTED]');
    expect(out).not.toContain('<!channel>');
    expect(out).toContain('&lt;!channel&gt; cache down &amp; &lt;@U0Y83SBP0Z2&gt;');
  });

  it('(i) nothing logged contains the token or message text, and the SDK prints nothing', () => {
    expect(logs.some((l) => /retry \d\/\d/.test(l))).toBe(true);
    for (const line of logs) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toMatch(/xox[a-z]-/);
      expect(line).not.toContain(report.root_cause.slice(0, 30));
      expect(line).not.toContain('please add the DB graph');
    }
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });
});

describe('the chart and the HTML report in the thread', () => {
  const analysis = analyzeBundle(validateBundle(clone(bundleJson)));
  const visuals = reviewVisuals(analysis, buildReport(analysis));
  const pngName = reportFilename(report.incident.id, 'chart.png');
  const htmlName = reportFilename(report.incident.id, 'html');
  const sharedNames = (f: SlackFake, ts: string) => thread(f, ts).flatMap((m) => ((m.files as Array<{ name: string }> | undefined) ?? []).map((x) => x.name));
  const byName = (f: SlackFake, name: string) => [...f.files.values()].filter((x) => x.filename === name && x.completed);

  it('uploads the PNG and the HTML into the thread after the Markdown, with files.uploadV2, once', async () => {
    expect(visuals.chartPng).not.toBeNull();
    const f = await fake();
    const res = await publishDraft(creds(f), report, markdown, opts({ visuals }));
    expect(res.notes).toEqual([]);
    expect(sharedNames(f, res.ts)).toEqual([filename, pngName, htmlName]);
    expect(timelines(thread(f, res.ts))).toHaveLength(1);

    const [png] = byName(f, pngName);
    expect(png!.bytes!.equals(visuals.chartPng!)).toBe(true); // the bytes arrive intact
    expect(png!.length).toBe(visuals.chartPng!.length); // and the announced length matches
    const img = readPng(png!.bytes!);
    expect(img.width).toBeGreaterThan(800);
    const [html] = byName(f, htmlName);
    expect(html!.content).toBe(visuals.html);
    const shares = thread(f, res.ts).flatMap((m) => (m.files as Array<{ name: string; mimetype: string }> | undefined) ?? []);
    expect(shares.find((x) => x.name === pngName)!.mimetype).toBe('image/png');

    // each file: a URL from Slack, the bytes POSTed there, then completion in the draft's thread
    const m = methods(f).filter((x) => x.startsWith('files.') || x === 'upload');
    expect(m).toEqual(Array.from({ length: 3 }, () => ['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']).flat());
    for (const r of f.requests.filter((x) => x.method === 'files.completeUploadExternal')) {
      expect(r.params).toMatchObject({ channel_id: REVIEW.id, thread_ts: res.ts });
    }

    // a rerun uploads nothing again
    const from = f.requests.length;
    const again = await publishDraft(creds(f), report, markdown, opts({ visuals }));
    expect(again).toMatchObject({ ts: res.ts, created: false, updated: false });
    expect(methods(f, from).some((x) => x.startsWith('files.') || x === 'upload')).toBe(false);
    expect(sharedNames(f, res.ts)).toEqual([filename, pngName, htmlName]);
    expect(f.files.size).toBe(3);
  });

  it('a thread that has the Markdown but not the pictures (an earlier run) gets only what is missing', async () => {
    const f = await fake();
    const first = await publishDraft(creds(f), report, markdown, opts());
    expect(sharedNames(f, first.ts)).toEqual([filename]);
    await publishDraft(creds(f), report, markdown, opts({ visuals }));
    expect(sharedNames(f, first.ts)).toEqual([filename, pngName, htmlName]);
    expect(byName(f, filename)).toHaveLength(1);
    await publishDraft(creds(f), report, markdown, opts({ visuals }));
    expect(sharedNames(f, first.ts)).toEqual([filename, pngName, htmlName]);
  });

  it('a failure partway (the HTML upload down) is finished by the next run without sharing the PNG again', async () => {
    const f = await fake({ faults: { uploadDownFor: [htmlName] } });
    const err = await publishDraft(creds(f), report, markdown, opts({ visuals })).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, status: 503 });
    const ts = topLevel(f)[0]!.ts;
    expect(sharedNames(f, ts)).toEqual([filename, pngName]);
    expect(timelines(thread(f, ts))).toHaveLength(0);

    f.faults.uploadDownFor = [];
    const res = await publishDraft(creds(f), report, markdown, opts({ visuals }));
    expect(res).toMatchObject({ ts, created: false });
    expect(sharedNames(f, ts)).toEqual([filename, pngName, htmlName]);
    expect(byName(f, pngName)).toHaveLength(1);
    expect(timelines(thread(f, ts))).toHaveLength(1);
  });

  it('uploads nothing but the redacted report: no planted secret or person in the HTML bytes', async () => {
    const f = await fake();
    await publishDraft(creds(f), report, markdown, opts({ visuals }));
    const uploaded = [...f.files.values()].map((x) => x.content ?? '').join('\n');
    const secrets = ['AKIAZKLBQSZTO4WZZGUE', 'al1GNlulrVSpf6JI7rzenN0l+56aWlJFgDDDArBn', 'ghp_7vURIApvXpO9pFvnU40Qrt24fzsDaVBiggQD'];
    const people = Object.values(bundleJson.sources.slack.users).flatMap((u) => [u.name, u.real_name, ...u.real_name.split(' ')]);
    expect(uploaded).toContain('<svg'); // the HTML is there, charts included
    for (const s of [...secrets, ...people]) expect(uploaded).not.toContain(s);

    // the last guard: an HTML that (wrongly) carried a secret is redacted before it leaves
    const g = await fake();
    await publishDraft(creds(g), report, markdown, opts({ visuals: { html: `${visuals.html}<!-- ghp_7vURIApvXpO9pFvnU40Qrt24fzsDaVBiggQD -->` } }));
    const html = byName(g, htmlName)[0]!.content!;
    expect(html).not.toContain('ghp_7vURIApvXpO9pFvnU40Qrt24fzsDaVBiggQD');
    expect(html).toContain('[REDACTED]');
  });

  it('is bounded: an HTML over the limit is left out with a note; the PNG still goes', async () => {
    const f = await fake();
    const huge = `<!DOCTYPE html><p>${'x'.repeat(MAX_VISUAL_UPLOAD_BYTES)}</p>`;
    const res = await publishDraft(creds(f), report, markdown, opts({ visuals: { chartPng: visuals.chartPng, html: huge } }));
    expect(res.notes).toHaveLength(1);
    expect(res.notes[0]).toMatch(new RegExp(`${htmlName.replace(/\./g, '\\.')} is \\d+ bytes, over the ${MAX_VISUAL_UPLOAD_BYTES} byte limit`));
    expect(sharedNames(f, res.ts)).toEqual([filename, pngName]);
  });

  it('without files:write no picture is attempted and the note says so', async () => {
    const f = await fake({ scopes: ALL_REVIEW_SCOPES.filter((s) => s !== 'files:write') });
    const res = await publishDraft(creds(f), report, markdown, opts({ visuals }));
    expect(res.notes).toHaveLength(2);
    expect(res.notes[1]).toMatch(/chart and the HTML report were not uploaded/);
    expect(f.requests.filter((r) => r.method === 'files.getUploadURLExternal')).toHaveLength(1); // the Markdown's try only
  });
});
