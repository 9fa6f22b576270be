// The autonomous mode's building blocks without a child process: the durable stage store, the
// PagerDuty poller's checkpoint and overlap, and the webhook's signature and replay checks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/harvest/config.js';
import { pollPagerDuty } from '../src/watch/poller.js';
import { handleDelivery, signBody, startWebhookServer, verifySignature } from '../src/watch/webhook.js';
import { PostgresWatchStore } from '../src/watch/postgresWatchStore.js';
import { SqliteWatchStore } from '../src/watch/sqliteWatchStore.js';
import { LeaseLost, type WatchStore } from '../src/watch/watchStore.js';
import { postgresAvailability, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { createPagerDutyFake, type PagerDutyFake } from './fakes/pagerdutyFake.js';

const home = () => mkdtempSync(join(tmpdir(), 'hs-watch-unit-'));
const incident = { id: 'PX1', source: 'pagerduty' as const, service: 'api', title: 'api down', resolvedAt: '2025-01-01T00:00:00Z' };
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

// The same behaviour from both implementations of the port: SQLite (default) and PostgreSQL.
const pgAvailability = postgresAvailability();
let pgServer: PostgresServer | null = null;
let databases = 0;
afterAll(async () => {
  await pgServer?.stop();
});

interface Backend {
  name: string;
  skip: boolean;
  /** a fresh, empty state location */
  location(): Promise<string>;
  open(location: string): Promise<WatchStore>;
}

const BACKENDS: Backend[] = [
  { name: 'SQLite', skip: false, location: async () => home(), open: async (dir) => new SqliteWatchStore(dir) },
  {
    name: 'PostgreSQL',
    skip: !pgAvailability.available,
    location: async () => {
      pgServer ??= await startPostgres();
      return pgServer.createDatabase(`watch_unit_${++databases}`);
    },
    open: (url) => PostgresWatchStore.open(url, { max: 2 }),
  },
];

describe.each(BACKENDS)('watch store ($name)', (backend) => {
  const fresh = async () => {
    const store = await backend.open(await backend.location());
    closers.push(() => store.close());
    return store;
  };

  it.skipIf(backend.skip)('queues an incident once, however often it is seen', async () => {
    const store = await fresh();
    expect(await store.enqueue(incident)).toBe(true);
    expect(await store.enqueue(incident)).toBe(false);
    expect(await store.list()).toHaveLength(1);
    expect((await store.get('PX1'))?.stage).toBe('seen');
  });

  it.skipIf(backend.skip)('records each stage with what it produced, and survives a reopen', async () => {
    const at = await backend.location();
    let store = await backend.open(at);
    await store.enqueue(incident);
    await store.advance('PX1', 'harvested');
    await store.advance('PX1', 'posted', { slackChannel: 'C1', slackTs: '1.2' });
    await store.advance('PX1', 'approved');
    await store.close();
    store = await backend.open(at);
    closers.push(() => store.close());
    expect(await store.get('PX1')).toMatchObject({ stage: 'approved', slackChannel: 'C1', slackTs: '1.2', attempts: 0 });
  });

  it.skipIf(backend.skip)('counts every stage run that ended, and the loop cycles and polls, across a reopen', async () => {
    const at = await backend.location();
    let store = await backend.open(at);
    await store.enqueue(incident, 10);
    expect(await store.get('PX1')).toMatchObject({ checks: 0, checkedAt: null, createdAt: 10 });
    await store.advance('PX1', 'harvested', {}, 20);
    await store.snooze('PX1', 100, {}, 30);
    await store.fail('PX1', 'boom', { maxAttempts: 5, baseDelayMs: 1000 }, 40);
    expect(await store.get('PX1')).toMatchObject({ checks: 3, checkedAt: 40 });
    expect(await store.watcher()).toEqual({ cycles: 0, polls: 0, lastCycleAt: null, lastPollAt: null });
    await store.recordCycle(true, 50);
    await store.recordCycle(false, 60);
    await store.close();
    store = await backend.open(at);
    closers.push(() => store.close());
    expect(await store.watcher()).toEqual({ cycles: 2, polls: 1, lastCycleAt: 60, lastPollAt: 50 });
    expect((await store.get('PX1'))!.checks).toBe(3);
  });

  it.skipIf(backend.skip)('backs off exponentially and parks the incident as failed after max attempts', async () => {
    const store = await fresh();
    await store.enqueue(incident, 0);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const row = await store.fail('PX1', 'boom', { maxAttempts: 4, baseDelayMs: 1000, random: () => 1 }, 0);
      delays.push(row.nextAttemptAt);
      expect(row.stage).toBe('seen');
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    expect((await store.due(1500)).map((r) => r.id)).toEqual([]);
    expect((await store.due(4000)).map((r) => r.id)).toEqual(['PX1']);
    expect((await store.fail('PX1', 'boom', { maxAttempts: 4, baseDelayMs: 1000 }, 0)).stage).toBe('failed');
    expect(await store.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(await store.retryFailed()).toBe(1);
    expect(await store.get('PX1')).toMatchObject({ stage: 'seen', attempts: 0 });
  });

  it.skipIf(backend.skip)('accepts a webhook delivery id once', async () => {
    const store = await fresh();
    expect(await store.acceptDelivery('d1')).toBe(true);
    expect(await store.acceptDelivery('d1')).toBe(false);
  });

  it.skipIf(backend.skip)('claims each due incident once per cycle, oldest first', async () => {
    const store = await fresh();
    await store.enqueue({ ...incident, id: 'A' }, 1);
    await store.enqueue({ ...incident, id: 'B' }, 2);
    const first = await store.claim('r1', { leaseMs: 60_000 }, 10);
    expect(first?.incident.id).toBe('A');
    const second = await store.claim('r1', { leaseMs: 60_000, exclude: ['A'] }, 10);
    expect(second?.incident.id).toBe('B');
    expect(await store.claim('r1', { leaseMs: 60_000, exclude: ['A', 'B'] }, 10)).toBeNull();
  });
});

describe('watch store (SQLite) before versioned migrations', () => {
  it('opens a store written before the check counters existed', async () => {
    const dir = home();
    const old = new Database(join(dir, 'hindsight.db'));
    old.exec(`CREATE TABLE watch_incidents (id TEXT PRIMARY KEY, source TEXT NOT NULL, service TEXT, title TEXT NOT NULL, resolved_at TEXT,
      stage TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0, last_error TEXT, slack_channel TEXT,
      slack_ts TEXT, tickets_json TEXT, engine TEXT, feedback_ts TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    old.prepare(`INSERT INTO watch_incidents (id, source, title, stage, created_at, updated_at) VALUES ('PX1', 'pagerduty', 't', 'posted', 5, 5)`).run();
    old.close();
    const store = new SqliteWatchStore(dir);
    closers.push(() => store.close());
    expect(await store.get('PX1')).toMatchObject({ stage: 'posted', checks: 0, checkedAt: null });
    await store.snooze('PX1', 100, {}, 7);
    expect(await store.get('PX1')).toMatchObject({ checks: 1, checkedAt: 7 });
    // each version recorded once; a second open applies nothing
    const db = new Database(join(dir, 'hindsight.db'), { readonly: true });
    expect((db.prepare('SELECT version FROM watch_migrations ORDER BY version').all() as Array<{ version: number }>).map((r) => r.version)).toEqual([1, 2]);
    db.close();
    const again = new SqliteWatchStore(dir);
    closers.push(() => again.close());
    expect(await again.get('PX1')).toMatchObject({ checks: 1 });
  });
});

describe.skipIf(!pgAvailability.available)('watch store (PostgreSQL): leases and fencing', () => {
  const fresh = async () => {
    pgServer ??= await startPostgres();
    const url = await pgServer.createDatabase(`watch_lease_${++databases}`);
    const a = await PostgresWatchStore.open(url, { max: 2 });
    const b = await PostgresWatchStore.open(url, { max: 2 });
    closers.push(() => a.close(), () => b.close());
    return { a, b, url };
  };

  it('gives a held stage to nobody else until its lease expires, then to one replica', async () => {
    const { a, b } = await fresh();
    await a.enqueue(incident, 0);
    const held = await a.claim('replica-a', { leaseMs: 1000 }, 100);
    expect(held?.incident.id).toBe('PX1');
    expect(await b.claim('replica-b', { leaseMs: 1000 }, 500)).toBeNull();
    expect(await a.renew(held!, 1000, 900)).toBe(true); // held until 1900
    expect(await b.claim('replica-b', { leaseMs: 1000 }, 1500)).toBeNull();
    const taken = await b.claim('replica-b', { leaseMs: 1000 }, 2000);
    expect(taken?.incident.id).toBe('PX1');
    expect(taken!.token).toBeGreaterThan(held!.token);
    expect(await a.renew(held!, 1000, 2001)).toBe(false);
  });

  it('refuses the outcome of a replica that lost its lease, and keeps the new holder\'s', async () => {
    const { a, b } = await fresh();
    await a.enqueue(incident, 0);
    const stale = (await a.claim('replica-a', { leaseMs: 1000 }, 0))!;
    const current = (await b.claim('replica-b', { leaseMs: 1000 }, 5000))!;
    await b.advance('PX1', 'harvested', {}, 5100, current.token);
    await expect(a.advance('PX1', 'harvested', {}, 5200, stale.token)).rejects.toBeInstanceOf(LeaseLost);
    await expect(a.fail('PX1', 'late', { maxAttempts: 3, baseDelayMs: 1000 }, 5200, stale.token)).rejects.toBeInstanceOf(LeaseLost);
    await expect(a.saveArtifacts('PX1', { bundle: { incident: { id: 'PX1' } } as never }, 5200, stale.token)).rejects.toBeInstanceOf(LeaseLost);
    // once recorded, even the holder's token is spent: one outcome per claim
    await expect(b.snooze('PX1', 9000, {}, 5300, current.token)).rejects.toBeInstanceOf(LeaseLost);
    expect(await a.get('PX1')).toMatchObject({ stage: 'harvested', attempts: 0, checks: 1, lastError: null });
  });

  it('hands each due incident to exactly one of many concurrent claimers', async () => {
    const { a, b } = await fresh();
    for (let i = 0; i < 40; i++) await a.enqueue({ ...incident, id: `P${String(i).padStart(2, '0')}` }, i);
    const got: string[] = [];
    await Promise.all(
      [a, b, a, b].map(async (store, r) => {
        for (;;) {
          const claim = await store.claim(`replica-${r}`, { leaseMs: 60_000 }, 1000);
          if (!claim) return;
          got.push(claim.incident.id);
        }
      }),
    );
    expect(got).toHaveLength(40);
    expect(new Set(got).size).toBe(40);
  });

  it('shares the bundle and the draft between replicas, and keeps the poll checkpoint moving forward only', async () => {
    const { a, b } = await fresh();
    await a.enqueue(incident, 0);
    const claim = (await a.claim('replica-a', { leaseMs: 1000 }, 0))!;
    const bundle = { bundle_version: 1, incident: { id: 'PX1', title: 'api down', created_at: '2025-01-01T00:00:00Z' } };
    await a.saveArtifacts('PX1', { bundle: bundle as never }, 1, claim.token);
    await a.saveArtifacts('PX1', { report: { report: { incident: { id: 'PX1' } } as never, markdown: '# PX1' } }, 2, claim.token);
    expect(await b.artifacts('PX1')).toEqual({ bundle, report: { report: { incident: { id: 'PX1' } }, markdown: '# PX1' } });
    await a.setCheckpoint('pagerduty', '2025-05-01T10:00:00.000Z');
    await b.setCheckpoint('pagerduty', '2025-05-01T09:00:00.000Z');
    expect(await a.checkpoint('pagerduty')).toBe('2025-05-01T10:00:00.000Z');
  });

  it('lets one replica poll a source per interval', async () => {
    const { a, b } = await fresh();
    expect(await a.claimPoll('pagerduty', 1000, 10_000)).toBe(true);
    expect(await b.claimPoll('pagerduty', 1000, 10_500)).toBe(false);
    expect(await b.claimPoll('opsgenie', 1000, 10_500)).toBe(true);
    expect(await b.claimPoll('pagerduty', 1000, 11_000)).toBe(true);
    expect(await a.claimPoll('pagerduty', 1000, 11_200)).toBe(false);
  });

  it('migrates once when replicas start together, and records the version', async () => {
    pgServer ??= await startPostgres();
    const url = await pgServer.createDatabase(`watch_migrate_${++databases}`);
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresWatchStore.open(url, { max: 1 })));
    for (const s of stores) closers.push(() => s.close());
    expect(await stores[0]!.migrate()).toEqual([]);
    await stores[1]!.enqueue(incident);
    expect(await stores[2]!.list()).toHaveLength(1);
  });
});

describe('PagerDuty poller', () => {
  let fake: PagerDutyFake;

  async function setup(resolvedAt: string, now: number) {
    const pdIncident = { id: 'PQ9', type: 'incident', title: 'api: 5xx', status: 'resolved', resolved_at: resolvedAt, created_at: '2025-05-01T09:00:00Z', service: { id: 'PS1', summary: 'api' } };
    fake = await createPagerDutyFake({ token: 't0k', incident: pdIncident });
    closers.push(() => fake.close());
    const config = loadConfig({ PAGERDUTY_TOKEN: 't0k', PAGERDUTY_API_URL: fake.url, HINDSIGHT_CONFIG: '' }, undefined, home());
    const store = new SqliteWatchStore(home());
    closers.push(() => store.close());
    return { config, store, pdIncident, now };
  }

  it('queues resolved incidents, keeps a checkpoint and does not queue twice', async () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const { config, store } = await setup('2025-05-01T09:59:00Z', now);
    expect(await pollPagerDuty(config, store, now)).toBe(1);
    expect(await store.checkpoint('pagerduty')).toBe('2025-05-01T09:59:00.000Z');
    expect(await pollPagerDuty(config, store, now + 60_000)).toBe(0);
    const req = fake.requestsTo('/incidents').at(-1)!;
    expect(req.query['statuses[]']).toEqual(expect.arrayContaining(['resolved']));
    expect(req.headers.authorization).toBe('Token token=t0k');
  });

  it('ignores incidents resolved before the checkpoint minus the overlap', async () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const { config, store } = await setup('2025-05-01T07:00:00Z', now);
    await store.setCheckpoint('pagerduty', '2025-05-01T09:00:00.000Z');
    expect(await pollPagerDuty(config, store, now)).toBe(0);
    expect(await store.list()).toEqual([]);
  });

  it('picks up an incident resolved just before the checkpoint, within the overlap', async () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const { config, store } = await setup('2025-05-01T08:55:00Z', now);
    await store.setCheckpoint('pagerduty', '2025-05-01T09:00:00.000Z');
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

  it('queues a signed incident.resolved and refuses unsigned, stale and replayed deliveries', async () => {
    const store = new SqliteWatchStore(home());
    closers.push(() => store.close());
    const body = Buffer.from(event('e1', '2025-05-01T09:59:30Z'));
    expect((await handleDelivery(secret, store, body, undefined, [], now)).status).toBe(401);
    expect((await handleDelivery(secret, store, body, signBody('wrong', body), [], now)).status).toBe(401);
    const ok = await handleDelivery(secret, store, body, signBody(secret, body), [], now);
    expect(ok).toMatchObject({ status: 202, queued: 'PW1' });
    expect((await handleDelivery(secret, store, body, signBody(secret, body), [], now)).status).toBe(409);
    const stale = Buffer.from(event('e2', '2025-05-01T08:00:00Z'));
    expect((await handleDelivery(secret, store, stale, signBody(secret, stale), [], now)).status).toBe(400);
    const other = Buffer.from(event('e3', '2025-05-01T10:00:00Z', 'incident.triggered'));
    expect(await handleDelivery(secret, store, other, signBody(secret, other), [], now)).toMatchObject({ status: 202, body: 'ignored event type' });
    expect((await store.list()).map((r) => r.id)).toEqual(['PW1']);
  });

  it('serves deliveries over HTTP', async () => {
    const store = new SqliteWatchStore(home());
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
