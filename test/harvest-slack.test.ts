// The Slack source with the real @slack/web-api client against a loopback fake.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import { channelMatchesIncident, checkSlack, harvestSlack, SLACK_READ_SCOPES } from '../src/harvest/sources/slack.js';
import type { HarvestCaps, HarvestContext, HttpPolicy, ServiceMapping } from '../src/harvest/types.js';
import { DEFAULT_CAPS } from '../src/harvest/config.js';
import { createSlackFake, type FakeChannel, type FakeMessage, type SlackFake, type SlackFakeOptions } from './fakes/slackFake.js';

const TOKEN = 'xoxb-0000000001-0000000002-hindsightFAKEtokenDoNotLeak';

interface RefBundle {
  incident: Record<string, unknown> & { id: string; incident_number: number; created_at: string; resolved_at: string; title: string; service: string; severity: string; status: string; urgency: string; acknowledged_at: string; url: string };
  harvest: { window: { from: string; to: string } };
  sources: { slack: { channel: FakeChannel & { created: number }; messages: FakeMessage[]; users: Record<string, Record<string, unknown>> } };
}

const bundle = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as RefBundle;
const ref = bundle.sources.slack;
const fromMs = Date.parse(bundle.harvest.window.from);
const toMs = Date.parse(bundle.harvest.window.to);
const byTs = (a: { ts: string }, b: { ts: string }) => Number(a.ts) - Number(b.ts);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const POLICY: HttpPolicy = { timeoutMs: 2000, retries: 2, baseDelayMs: 20, maxDelayMs: 100 };
const CAPS: HarvestCaps = { ...DEFAULT_CAPS };

/** every line any harvester context logged, for the no-token check at the end */
const allLogs: string[] = [];
/** every error message and doctor detail produced */
const allOutputs: string[] = [];

function makeCtx(over: { caps?: Partial<HarvestCaps>; http?: Partial<HttpPolicy>; service?: ServiceMapping | null } = {}): { ctx: HarvestContext; logs: string[] } {
  const logs: string[] = [];
  const i = bundle.incident;
  const ctx: HarvestContext = {
    incident: {
      id: i.id,
      source: 'pagerduty',
      number: i.incident_number,
      title: i.title,
      service: i.service,
      severity: i.severity,
      urgency: i.urgency,
      status: i.status,
      createdAt: i.created_at,
      acknowledgedAt: i.acknowledged_at,
      resolvedAt: i.resolved_at,
      url: i.url,
      raw: i,
    },
    window: { fromMs, toMs },
    deployWindow: { fromMs: fromMs - 72 * 3600_000, toMs },
    caps: { ...CAPS, ...over.caps },
    http: { ...POLICY, ...over.http },
    service: over.service ?? null,
    log: (m) => {
      logs.push(m);
      allLogs.push(m);
    },
  };
  return { ctx, logs };
}

const fakes: SlackFake[] = [];
async function fake(over: Partial<SlackFakeOptions> = {}): Promise<SlackFake> {
  const f = await createSlackFake({ token: TOKEN, channel: clone(ref.channel), messages: clone(ref.messages), users: clone(ref.users), pageSize: 200, ...over });
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const creds = (f: SlackFake, token = TOKEN) => ({ token, apiUrl: f.url });

function record<T extends { errors: { message: string }[] }>(out: T): T {
  for (const e of out.errors) allOutputs.push(e.message);
  return out;
}

function decoys(n: number, prefix = 'team'): FakeChannel[] {
  return Array.from({ length: n }, (_, k) => ({ id: `C0DECOY${String(k).padStart(5, '0')}`, name: `${prefix}-${k}-chatter`, created: 1_700_000_000 + k }));
}

/** users of the reference bundle that the messages actually reference (author or <@mention>) */
function referencedUserIds(messages: FakeMessage[]): Set<string> {
  const ids = new Set<string>();
  for (const m of messages) {
    if (typeof m.user === 'string') ids.add(m.user);
    for (const hit of String(m.text ?? '').matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)) ids.add(hit[1]!);
  }
  return ids;
}

let consoleSpies: MockInstance[] = [];
beforeAll(() => {
  consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((k) => vi.spyOn(console, k));
});
afterAll(() => {
  for (const s of consoleSpies) s.mockRestore();
});

describe('harvestSlack against the fake Slack API', () => {
  it('(a) reproduces the reference bundle: channel, messages (history + replies) and users', async () => {
    // noise outside the window: before it, after it, and a late reply in a thread
    const extra: FakeMessage[] = [
      { type: 'message', user: 'U0Y83SBP0Z2', text: 'way before the incident', ts: ((fromMs - 3600_000) / 1000).toFixed(6) },
      { type: 'message', user: 'U0Y83SBP0Z2', text: 'the next morning', ts: ((toMs + 3600_000) / 1000).toFixed(6) },
      { type: 'message', user: 'U0H0JXJCLRS', text: 'late reply', ts: ((toMs + 60_000) / 1000).toFixed(6), thread_ts: '1731608973.088550' },
    ];
    const f = await fake({ messages: [...clone(ref.messages), ...extra], extraChannels: decoys(30) });
    const { ctx } = makeCtx();
    const out = record(await harvestSlack(creds(f), ctx, { channel: ref.channel.id }));

    expect(out.errors).toEqual([]);
    expect(out.truncated).toEqual([]);
    expect(out.data).not.toBeNull();
    const data = out.data!;
    expect(data.channel).toEqual({ id: ref.channel.id, name: ref.channel.name, created: ref.channel.created });
    const got = [...(data.messages as FakeMessage[])];
    expect(got.map((m) => m.ts)).toEqual([...got].sort(byTs).map((m) => m.ts)); // already sorted
    expect(new Set(got.map((m) => m.ts)).size).toBe(got.length); // no duplicates (parents came twice)
    expect(got).toEqual(clone(ref.messages).sort(byTs));

    // users: exactly the four kept fields; the reference map also holds one person no message
    // references (a commit author), which a harvest cannot know about
    const referenced = referencedUserIds(ref.messages);
    const expectedUsers = Object.fromEntries(Object.entries(ref.users).filter(([id]) => referenced.has(id)));
    expect(Object.keys(ref.users).filter((id) => !referenced.has(id))).toEqual(['U08BK45YOZD']);
    expect(data.users).toEqual(expectedUsers);
    for (const u of Object.values(data.users)) expect(Object.keys(u as object).sort()).toEqual(['is_bot', 'name', 'real_name', 'tz']);

    // the harvested section is a valid bundle section
    expect(() => validateBundle({ bundle_version: 1, incident: bundle.incident, sources: { slack: data } })).not.toThrow();

    // what was asked of Slack
    const history = f.requests.filter((r) => r.method === 'conversations.history');
    expect(history.length).toBe(1);
    expect(history[0]!.params).toMatchObject({ channel: ref.channel.id, oldest: (fromMs / 1000).toFixed(6), latest: (toMs / 1000).toFixed(6), inclusive: 'true', limit: '200' });
    const threads = ref.messages.filter((m) => Number(m.reply_count) > 0).length;
    expect(f.requests.filter((r) => r.method === 'conversations.replies').length).toBe(threads);
    expect(f.requests.filter((r) => r.method === 'users.info').length).toBe(referenced.size);
    expect(f.requests.some((r) => r.method === 'conversations.list')).toBe(false);
    expect(f.requests.every((r) => r.authorized)).toBe(true);
  });

  it('(b) discovers the channel by incident number through several pages of conversations.list', async () => {
    const channel = { ...clone(ref.channel), name: 'inc-5127-inventory-api' };
    // near misses on earlier pages: the number inside a longer number must not match
    const near: FakeChannel[] = [
      { id: 'C0NEAR00001', name: 'inc-51270-payments', created: 1_731_000_000 },
      { id: 'C0NEAR00002', name: 'inc-15127-search', created: 1_731_000_000 },
      { id: 'C0NEAR00003', name: 'inc-5128-inventory-api', created: 1_731_000_000 },
    ];
    const f = await fake({ channel, extraChannels: [...near, ...decoys(450)], pageSize: 100 });
    const { ctx, logs } = makeCtx();
    const out = record(await harvestSlack(creds(f), ctx, {}));

    expect(out.errors).toEqual([]);
    expect(out.data!.channel).toEqual({ id: ref.channel.id, name: 'inc-5127-inventory-api', created: ref.channel.created });
    expect(out.data!.messages).toHaveLength(ref.messages.length);
    const lists = f.requests.filter((r) => r.method === 'conversations.list');
    expect(lists.length).toBe(5); // 454 channels, 100 a page, the incident channel last
    expect(lists[0]!.params).toMatchObject({ types: 'public_channel,private_channel', exclude_archived: 'false', limit: '200' });
    expect(lists.slice(1).every((r) => typeof r.params.cursor === 'string' && r.params.cursor !== '')).toBe(true);
    expect(logs.some((l) => l.includes('inc-5127-inventory-api'))).toBe(true);
  });

  it('(b) also discovers by incident id, and reports a clear non-retryable error when nothing matches', async () => {
    const byId = await fake({ channel: { ...clone(ref.channel), name: `incident-${bundle.incident.id.toLowerCase()}` }, extraChannels: decoys(120), pageSize: 50 });
    const found = record(await harvestSlack(creds(byId), makeCtx().ctx, {}));
    expect(found.data!.channel.name).toBe(`incident-${bundle.incident.id.toLowerCase()}`);

    const none = await fake({ extraChannels: decoys(120), pageSize: 50 }); // reference name has neither number nor id
    const miss = record(await harvestSlack(creds(none), makeCtx().ctx, {}));
    expect(miss.data).toBeNull();
    expect(miss.errors).toHaveLength(1);
    expect(miss.errors[0]).toMatchObject({ source: 'slack', retryable: false });
    expect(miss.errors[0]!.message).toMatch(/^no incident channel found/);
    expect(miss.errors[0]!.message).toContain('121 channels scanned');

    // the scan stops at caps.slackChannelsScanned
    const capped = await fake({ channel: { ...clone(ref.channel), name: 'inc-5127' }, extraChannels: decoys(300), pageSize: 50 });
    const stopped = record(await harvestSlack(creds(capped), makeCtx({ caps: { slackChannelsScanned: 120 } }).ctx, {}));
    expect(stopped.data).toBeNull();
    expect(stopped.errors[0]!.message).toMatch(/120 channels scanned \(scan limit reached\)/);
    expect(capped.requests.filter((r) => r.method === 'conversations.list').length).toBe(3);

    expect(channelMatchesIncident('INC-5127-db', { id: 'X', number: 5127 })).toBe(true);
    expect(channelMatchesIncident('inc-51270', { id: 'X', number: 5127 })).toBe(false);
    expect(channelMatchesIncident('incident-qv709rbzinvxi4', { id: 'QV709RBZINVXI4', number: null })).toBe(true);
  });

  it('(c) an explicit channel option wins over the service mapping and discovery', async () => {
    const service: ServiceMapping = { name: 'inventory-api', repos: [], slackChannel: '#inc-5127-decoy', datadogQueries: [], datadogLogQuery: null, newrelicQueries: [] };
    const extra: FakeChannel[] = [{ id: 'C0DECOYINC5127', name: 'inc-5127-decoy', created: 1_731_608_000 }, ...decoys(20)];

    // by id: no listing at all
    const f1 = await fake({ extraChannels: extra });
    const byId = record(await harvestSlack(creds(f1), makeCtx({ service }).ctx, { channel: ref.channel.id }));
    expect(byId.data!.channel.id).toBe(ref.channel.id);
    expect(f1.requests.some((r) => r.method === 'conversations.list')).toBe(false);

    // by name (with or without #): resolved through conversations.list
    for (const name of [`#${ref.channel.name}`, ref.channel.name]) {
      const f = await fake({ extraChannels: extra, pageSize: 10 });
      const out = record(await harvestSlack(creds(f), makeCtx({ service }).ctx, { channel: name }));
      expect(out.data!.channel).toEqual({ id: ref.channel.id, name: ref.channel.name, created: ref.channel.created });
      expect(f.requests.filter((r) => r.method === 'conversations.history')[0]!.params.channel).toBe(ref.channel.id);
    }

    // without the option the service mapping is used (here: the decoy, which has no messages)
    const f2 = await fake({ extraChannels: extra });
    const mapped = record(await harvestSlack(creds(f2), makeCtx({ service }).ctx, { channel: null }));
    expect(mapped.data!.channel.id).toBe('C0DECOYINC5127');
    expect(mapped.data!.messages).toEqual([]);

    // an explicit channel that does not exist is an error, not a silent fallback to discovery
    const f3 = await fake({ extraChannels: extra });
    const missing = record(await harvestSlack(creds(f3), makeCtx().ctx, { channel: 'C0NOSUCHCHAN' }));
    expect(missing.data).toBeNull();
    expect(missing.errors[0]).toMatchObject({ source: 'slack', retryable: false });
    expect(missing.errors[0]!.message).toContain('C0NOSUCHCHAN');
  });

  it('(d) honours Retry-After on 429 and then succeeds', async () => {
    const f = await fake({ faults: { rateLimitOnce: 'conversations.history', retryAfterSeconds: 1 } });
    const { ctx, logs } = makeCtx();
    const out = record(await harvestSlack(creds(f), ctx, { channel: ref.channel.id }));
    expect(out.errors).toEqual([]);
    expect(out.data!.messages).toHaveLength(ref.messages.length);
    const history = f.requests.filter((r) => r.method === 'conversations.history');
    expect(history.map((r) => r.status)).toEqual([429, 200]);
    expect(history[1]!.at - history[0]!.at).toBeGreaterThanOrEqual(900);
    expect(logs.some((l) => /conversations\.history.*429.*retry 1\/2 in 1000 ms/.test(l))).toBe(true);
  });

  it('(e) Slack down (5xx): data null, a retryable error, no throw, bounded attempts', async () => {
    const f = await fake({ faults: { down: true } });
    const out = record(await harvestSlack(creds(f), makeCtx().ctx, { channel: ref.channel.id }));
    expect(out.data).toBeNull();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'slack', retryable: true });
    expect(out.errors[0]!.message).toMatch(/503/);
    expect(f.requests.length).toBe(POLICY.retries + 1);

    // discovery hits the outage too
    const g = await fake({ faults: { down: true } });
    const out2 = record(await harvestSlack(creds(g), makeCtx().ctx, {}));
    expect(out2.data).toBeNull();
    expect(out2.errors[0]!.retryable).toBe(true);
    expect(g.requests.length).toBe(POLICY.retries + 1);
  });

  it('(e) transient 5xx are retried with backoff; a hanging API times out, bounded', async () => {
    const f = await fake({ faults: { failWith5xx: 2 } });
    const out = record(await harvestSlack(creds(f), makeCtx().ctx, { channel: ref.channel.id }));
    expect(out.errors).toEqual([]);
    expect(out.data!.messages).toHaveLength(ref.messages.length);
    expect(f.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 200]);

    // the fake would answer after 10 s: an error (not data) proves each attempt was abandoned
    const h = await fake({ faults: { hangMs: 10_000 } });
    const hung = record(await harvestSlack(creds(h), makeCtx({ http: { timeoutMs: 300 } }).ctx, { channel: ref.channel.id }));
    expect(hung.data).toBeNull();
    expect(hung.errors[0]!.retryable).toBe(true);
    expect(hung.errors[0]!.message).toMatch(/time/i);
    expect(h.requests.length).toBe(POLICY.retries + 1);
  });

  it('(f) a bad token: checkSlack says authorized false; the harvest fails once, without retrying', async () => {
    const f = await fake();
    const check = await checkSlack(creds(f, 'xoxb-wrong-token-1234567890'), POLICY);
    allOutputs.push(check.detail);
    expect(check).toMatchObject({ source: 'slack', configured: true, reachable: true, authorized: false, missing: [] });
    expect(check.detail).toMatch(/invalid_auth/);
    expect(check.detail).not.toContain('xoxb-wrong-token');

    const empty = await checkSlack(creds(f, ''), POLICY);
    expect(empty.authorized).toBe(false);
    expect(empty.detail).toMatch(/not_authed/);

    const out = record(await harvestSlack(creds(f, 'xoxb-wrong-token-1234567890'), makeCtx().ctx, { channel: ref.channel.id }));
    expect(out.data).toBeNull();
    expect(out.errors[0]).toMatchObject({ source: 'slack', retryable: false });
    expect(out.errors[0]!.message).toMatch(/invalid_auth/);
    expect(f.requests.filter((r) => r.method === 'conversations.info').length).toBe(1);

    // and an API that is not there at all
    const gone = await fake();
    const url = gone.url;
    await gone.close();
    const down = await checkSlack({ token: TOKEN, apiUrl: url }, { ...POLICY, retries: 0 });
    expect(down).toMatchObject({ reachable: false, authorized: null });
  });

  it('(g) checkSlack lists the read scopes the token lacks', async () => {
    const full = await fake();
    const ok = await checkSlack(creds(full), POLICY);
    allOutputs.push(ok.detail);
    expect(ok).toMatchObject({ source: 'slack', configured: true, reachable: true, authorized: true, missing: [] });
    expect(full.requests.map((r) => r.method)).toEqual(['auth.test']);

    const partial = await fake({ scopes: ['channels:history', 'channels:read', 'chat:write'] });
    const some = await checkSlack(creds(partial), POLICY);
    allOutputs.push(some.detail);
    expect(some.authorized).toBe(true);
    expect(some.missing).toEqual(['groups:history', 'groups:read', 'users:read']);
    expect(some.detail).toContain('groups:history, groups:read, users:read');
    expect([...SLACK_READ_SCOPES]).toEqual(['channels:history', 'groups:history', 'channels:read', 'groups:read', 'users:read']);

    // the same token still harvests public channels; users are a recorded gap, not a failure
    const out = record(await harvestSlack(creds(partial), makeCtx().ctx, {}));
    expect(out.data).toBeNull(); // discovery by number: the reference channel name has none
    const named = await fake({ channel: { ...clone(ref.channel), name: 'inc-5127' }, scopes: ['channels:history', 'channels:read'] });
    const res = record(await harvestSlack(creds(named), makeCtx().ctx, {}));
    expect(res.data!.messages).toHaveLength(ref.messages.length);
    expect(res.data!.users).toEqual({});
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]!.message).toMatch(/users\.info: 7 of 7 users not read \(users\.info: missing_scope \(needed: users:read\)\)/);
    expect(named.requests.filter((r) => r.method === 'users.info').length).toBeLessThanOrEqual(4); // stops at the scope error
    expect(named.requests.filter((r) => r.method === 'conversations.list').map((r) => r.params.types)).toEqual(['public_channel,private_channel', 'public_channel']);
  });

  it('(h) a huge channel is capped: the newest messages are kept, with a truncation entry', async () => {
    const users = { U0AAAAAAAAA: { name: 'a', real_name: 'A', tz: 'UTC', is_bot: false }, U0BBBBBBBBB: { name: 'b', real_name: 'B', tz: 'UTC', is_bot: false } };
    const start = Math.floor(fromMs / 1000) + 10;
    const messages: FakeMessage[] = Array.from({ length: 3000 }, (_, k) => ({
      type: 'message',
      user: k % 2 ? 'U0AAAAAAAAA' : 'U0BBBBBBBBB',
      text: `line ${k}`,
      ts: `${start + k * 3}.${String(k).padStart(6, '0')}`,
    }));
    const f = await fake({ messages, users });
    const { ctx } = makeCtx({ caps: { slackMessages: 500 } });
    const out = record(await harvestSlack(creds(f), ctx, { channel: ref.channel.id }));
    expect(out.errors).toEqual([]);
    const got = out.data!.messages as FakeMessage[];
    expect(got).toHaveLength(500);
    expect(got.map((m) => m.ts)).toEqual(messages.slice(-500).map((m) => m.ts));
    expect(out.truncated).toEqual([{ source: 'slack', what: 'messages', kept: 500, total: null }]);
    expect(f.requests.filter((r) => r.method === 'conversations.history').length).toBe(3); // 600 read, not 3000
    expect(Object.keys(out.data!.users).sort()).toEqual(['U0AAAAAAAAA', 'U0BBBBBBBBB']);

    // replies count towards the cap too; a fully read window over the cap reports its total
    const threaded: FakeMessage[] = Array.from({ length: 40 }, (_, k) => ({ type: 'message', user: 'U0AAAAAAAAA', text: `p ${k}`, ts: `${start + k * 100}.000000`, thread_ts: `${start + k * 100}.000000`, reply_count: 1 }));
    for (let k = 0; k < 40; k++) threaded.push({ type: 'message', user: 'U0BBBBBBBBB', text: `r ${k}`, ts: `${start + k * 100 + 1}.000000`, thread_ts: `${start + k * 100}.000000` });
    const g = await fake({ messages: threaded, users });
    const capped = record(await harvestSlack(creds(g), makeCtx({ caps: { slackMessages: 50 } }).ctx, { channel: ref.channel.id }));
    expect(capped.data!.messages).toHaveLength(50);
    expect(capped.truncated).toEqual([{ source: 'slack', what: 'messages', kept: 50, total: null }]);
    expect(g.requests.filter((r) => r.method === 'conversations.replies').length).toBe(10); // newest threads first, until the cap

    // exactly at the cap: everything read, nothing truncated
    const h = await fake({ messages: threaded, users });
    const exact = record(await harvestSlack(creds(h), makeCtx({ caps: { slackMessages: 80 } }).ctx, { channel: ref.channel.id }));
    expect(exact.data!.messages).toHaveLength(80);
    expect(exact.truncated).toEqual([]);
  });

  it('(i) nothing logged or reported contains the token, and the SDK prints nothing', () => {
    expect(allLogs.length).toBeGreaterThan(20);
    expect(allLogs.some((l) => /retry \d\/\d/.test(l))).toBe(true);
    for (const line of [...allLogs, ...allOutputs]) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toMatch(/xox[a-z]-/);
      expect(line).not.toContain('hindsightFAKEtoken');
    }
    // no message text leaks into progress lines either
    expect(allLogs.some((l) => l.includes('RedisTimeoutError') || l.includes('AKIAZKLBQSZTO4WZZGUE'))).toBe(false);
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });
});
