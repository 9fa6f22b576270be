// The autonomous mode's building blocks without a child process: the durable stage store, the
// PagerDuty poller's checkpoint and overlap, and the webhook's signature and replay checks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/harvest/config.js';
import { pollPagerDuty } from '../src/watch/poller.js';
import { handleDelivery, signBody, startWebhookServer, verifySignature } from '../src/watch/webhook.js';
import { WatchStore } from '../src/watch/watchStore.js';
import { createPagerDutyFake, type PagerDutyFake } from './fakes/pagerdutyFake.js';

const home = () => mkdtempSync(join(tmpdir(), 'hs-watch-unit-'));
const incident = { id: 'PX1', source: 'pagerduty' as const, service: 'api', title: 'api down', resolvedAt: '2025-01-01T00:00:00Z' };
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('watch store', () => {
  it('queues an incident once, however often it is seen', () => {
    const store = new WatchStore(home());
    closers.push(() => store.close());
    expect(store.enqueue(incident)).toBe(true);
    expect(store.enqueue(incident)).toBe(false);
    expect(store.list()).toHaveLength(1);
    expect(store.get('PX1')?.stage).toBe('seen');
  });

  it('records each stage with what it produced, and survives a reopen', () => {
    const dir = home();
    let store = new WatchStore(dir);
    store.enqueue(incident);
    store.advance('PX1', 'harvested');
    store.advance('PX1', 'posted', { slackChannel: 'C1', slackTs: '1.2' });
    store.close();
    store = new WatchStore(dir);
    closers.push(() => store.close());
    expect(store.get('PX1')).toMatchObject({ stage: 'posted', slackChannel: 'C1', slackTs: '1.2', attempts: 0 });
  });

  it('counts every stage run that ended, and the loop cycles and polls, across a reopen', () => {
    const dir = home();
    let store = new WatchStore(dir);
    store.enqueue(incident, 10);
    expect(store.get('PX1')).toMatchObject({ checks: 0, checkedAt: null, createdAt: 10 });
    store.advance('PX1', 'harvested', {}, 20);
    store.snooze('PX1', 100, {}, 30);
    store.fail('PX1', 'boom', { maxAttempts: 5, baseDelayMs: 1000 }, 40);
    expect(store.get('PX1')).toMatchObject({ checks: 3, checkedAt: 40 });
    expect(store.watcher()).toEqual({ cycles: 0, polls: 0, lastCycleAt: null, lastPollAt: null });
    store.recordCycle(true, 50);
    store.recordCycle(false, 60);
    store.close();
    store = new WatchStore(dir);
    closers.push(() => store.close());
    expect(store.watcher()).toEqual({ cycles: 2, polls: 1, lastCycleAt: 60, lastPollAt: 50 });
    expect(store.get('PX1')!.checks).toBe(3);
  });

  it('opens a store written before the check counters existed', () => {
    const dir = home();
    const old = new Database(join(dir, 'hindsight.db'));
    old.exec(`CREATE TABLE watch_incidents (id TEXT PRIMARY KEY, source TEXT NOT NULL, service TEXT, title TEXT NOT NULL, resolved_at TEXT,
      stage TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0, last_error TEXT, slack_channel TEXT,
      slack_ts TEXT, tickets_json TEXT, engine TEXT, feedback_ts TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    old.prepare(`INSERT INTO watch_incidents (id, source, title, stage, created_at, updated_at) VALUES ('PX1', 'pagerduty', 't', 'posted', 5, 5)`).run();
    old.close();
    const store = new WatchStore(dir);
    closers.push(() => store.close());
    expect(store.get('PX1')).toMatchObject({ stage: 'posted', checks: 0, checkedAt: null });
    store.snooze('PX1', 100, {}, 7);
    expect(store.get('PX1')).toMatchObject({ checks: 1, checkedAt: 7 });
  });

  it('backs off exponentially and parks the incident as failed after max attempts', () => {
    const store = new WatchStore(home());
    closers.push(() => store.close());
    store.enqueue(incident, 0);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const row = store.fail('PX1', 'boom', { maxAttempts: 4, baseDelayMs: 1000, random: () => 1 }, 0);
      delays.push(row.nextAttemptAt);
      expect(row.stage).toBe('seen');
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    expect(store.due(1500).map((r) => r.id)).toEqual([]);
    expect(store.due(4000).map((r) => r.id)).toEqual(['PX1']);
    expect(store.fail('PX1', 'boom', { maxAttempts: 4, baseDelayMs: 1000 }, 0).stage).toBe('failed');
    expect(store.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(store.retryFailed()).toBe(1);
    expect(store.get('PX1')).toMatchObject({ stage: 'seen', attempts: 0 });
  });

  it('accepts a webhook delivery id once', () => {
    const store = new WatchStore(home());
    closers.push(() => store.close());
    expect(store.acceptDelivery('d1')).toBe(true);
    expect(store.acceptDelivery('d1')).toBe(false);
  });
});

describe('PagerDuty poller', () => {
  let fake: PagerDutyFake;

  async function setup(resolvedAt: string, now: number) {
    const pdIncident = { id: 'PQ9', type: 'incident', title: 'api: 5xx', status: 'resolved', resolved_at: resolvedAt, created_at: '2025-05-01T09:00:00Z', service: { id: 'PS1', summary: 'api' } };
    fake = await createPagerDutyFake({ token: 't0k', incident: pdIncident });
    closers.push(() => fake.close());
    const config = loadConfig({ PAGERDUTY_TOKEN: 't0k', PAGERDUTY_API_URL: fake.url, HINDSIGHT_CONFIG: '' }, undefined, home());
    const store = new WatchStore(home());
    closers.push(() => store.close());
    return { config, store, pdIncident, now };
  }

  it('queues resolved incidents, keeps a checkpoint and does not queue twice', async () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const { config, store } = await setup('2025-05-01T09:59:00Z', now);
    expect(await pollPagerDuty(config, store, now)).toBe(1);
    expect(store.checkpoint('pagerduty')).toBe('2025-05-01T09:59:00.000Z');
    expect(await pollPagerDuty(config, store, now + 60_000)).toBe(0);
    const req = fake.requestsTo('/incidents').at(-1)!;
    expect(req.query['statuses[]']).toEqual(expect.arrayContaining(['resolved']));
    expect(req.headers.authorization).toBe('Token token=t0k');
  });

  it('ignores incidents resolved before the checkpoint minus the overlap', async () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const { config, store } = await setup('2025-05-01T07:00:00Z', now);
    store.setCheckpoint('pagerduty', '2025-05-01T09:00:00.000Z');
    expect(await pollPagerDuty(config, store, now)).toBe(0);
    expect(store.list()).toEqual([]);
  });

  it('picks up an incident resolved just before the checkpoint, within the overlap', async () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const { config, store } = await setup('2025-05-01T08:55:00Z', now);
    store.setCheckpoint('pagerduty', '2025-05-01T09:00:00.000Z');
    expect(await pollPagerDuty(config, store, now)).toBe(1);
  });
});

describe('PagerDuty webhooks', () => {
  const secret = 'whsec-test-secret';
  const event = (id: string, occurredAt: string, type = 'incident.resolved') =>
    JSON.stringify({ event: { id, event_type: type, resource_type: 'incident', occurred_at: occurredAt, data: { id: 'PW1', type: 'incident', title: 'db down', status: 'resolved', service: { id: 'S1', summary: 'db' } } } });
  const now = Date.parse('2025-05-01T10:00:00Z');

  it('verifies HMAC-SHA256 signatures, including one of several during rotation', () => {
    const body = Buffer.from(event('e1', '2025-05-01T10:00:00Z'));
    expect(verifySignature(secret, body, signBody(secret, body))).toBe(true);
    expect(verifySignature(secret, body, `v1=${'0'.repeat(64)},${signBody(secret, body)}`)).toBe(true);
    expect(verifySignature(secret, body, signBody('other', body))).toBe(false);
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, Buffer.from(body.toString() + ' '), signBody(secret, body))).toBe(false);
  });

  it('queues a signed incident.resolved and refuses unsigned, stale and replayed deliveries', () => {
    const store = new WatchStore(home());
    closers.push(() => store.close());
    const body = Buffer.from(event('e1', '2025-05-01T09:59:30Z'));
    expect(handleDelivery(secret, store, body, undefined, [], now).status).toBe(401);
    expect(handleDelivery(secret, store, body, signBody('wrong', body), [], now).status).toBe(401);
    const ok = handleDelivery(secret, store, body, signBody(secret, body), [], now);
    expect(ok).toMatchObject({ status: 202, queued: 'PW1' });
    expect(handleDelivery(secret, store, body, signBody(secret, body), [], now).status).toBe(409);
    const stale = Buffer.from(event('e2', '2025-05-01T08:00:00Z'));
    expect(handleDelivery(secret, store, stale, signBody(secret, stale), [], now).status).toBe(400);
    const other = Buffer.from(event('e3', '2025-05-01T10:00:00Z', 'incident.triggered'));
    expect(handleDelivery(secret, store, other, signBody(secret, other), [], now)).toMatchObject({ status: 202, body: 'ignored event type' });
    expect(store.list().map((r) => r.id)).toEqual(['PW1']);
  });

  it('serves deliveries over HTTP', async () => {
    const store = new WatchStore(home());
    closers.push(() => store.close());
    const queued: string[] = [];
    const server = await startWebhookServer({ port: 0, host: '127.0.0.1', secret, store, services: [], onQueued: (id) => queued.push(id), log: () => undefined });
    closers.push(() => new Promise((r) => server.close(r)));
    const { port } = server.address() as { port: number };
    const body = event('e9', new Date().toISOString());
    const post = (sig?: string) => fetch(`http://127.0.0.1:${port}/pagerduty`, { method: 'POST', body, headers: sig ? { 'x-pagerduty-signature': sig } : {} });
    expect((await post()).status).toBe(401);
    expect((await post(signBody(secret, body))).status).toBe(202);
    expect((await post(signBody(secret, body))).status).toBe(409);
    expect(queued).toEqual(['PW1']);
  });
});
