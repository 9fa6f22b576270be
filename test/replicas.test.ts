// Several `hindsight watch` replicas on one PostgreSQL (a real server started for the test), with
// the vendor fakes on loopback: 20 incidents resolve while replicas are SIGKILLed at random
// (seeded) moments and restarted. Each replica has its own HINDSIGHT_HOME, so whatever one stage
// needs from an earlier one (the bundle, the draft) can only come through the database. At the
// end every incident is ticketed, has exactly one review post, and no ticket was filed twice.
// HINDSIGHT_TEST_SEED replays a schedule; the seed is printed when the test fails.
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { PostgresWatchStore } from '../src/watch/postgresWatchStore.js';
import type { WatchedIncident } from '../src/watch/watchStore.js';
import { postgresAvailability, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { createReplicaWorld, type ReplicaWorld } from './helpers/replicaWorld.js';
import { CLI, startWatch, until, type WatchProcess } from './helpers/watchProcess.js';

const pg = postgresAvailability();

/** mulberry32: a small seeded generator, so a failing kill schedule can be replayed */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const markerOf = (issue: Record<string, any>) => /hindsight:[^ >]+/.exec(String(issue.body))![0];

describe.skipIf(!pg.available)('watch replicas on one PostgreSQL', () => {
  let server: PostgresServer;
  const children: ChildProcess[] = [];
  let world: ReplicaWorld | null = null;
  let databases = 0;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await world?.close();
    world = null;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('takes 20 incidents to one review post and one ticket set each while replicas are SIGKILLed and restarted', { timeout: 300_000 }, async () => {
    const seed = Number(process.env.HINDSIGHT_TEST_SEED ?? 20261204);
    onTestFailed(() => console.error(`replica kill schedule seed: ${seed} (HINDSIGHT_TEST_SEED=${seed} replays it)`));
    const random = seeded(seed);
    world = await createReplicaWorld({ count: 20 });
    const w = world;
    const url = await server.createDatabase(`replicas_${++databases}`);
    const store = await PostgresWatchStore.open(url, { max: 1 });
    try {
      const homes = [w.home(), w.home(), w.home()];
      // 4 s leases: a killed replica's stage is taken over within seconds
      const start = (i: number): WatchProcess => startWatch(children, w.env(homes[i]!, url, { HINDSIGHT_LEASE_SECONDS: '4' }));
      const replicas = homes.map((_, i) => start(i));
      const lives = [...replicas];

      // incidents resolve in small groups while the replicas work (and die)
      const pending = [...w.ids];
      let nextResolve = Date.now();
      let nextKill = Date.now() + 1000 + random() * 2000;
      let kills = 0;
      const deadline = Date.now() + 240_000;
      let rows: WatchedIncident[] = [];
      for (;;) {
        const now = Date.now();
        if (pending.length && now >= nextResolve) {
          w.resolve(pending.splice(0, 1 + Math.floor(random() * 3)));
          nextResolve = now + 500 + random() * 1500;
        }
        w.approvePosted();
        rows = await store.list();
        if (rows.length === w.ids.length && rows.every((r) => r.stage === 'ticketed')) break;
        if (now > deadline) throw new Error(`timed out: ${rows.filter((r) => r.stage !== 'ticketed').map((r) => `${r.id}:${r.stage}`).join(' ')}`);
        if (now >= nextKill) {
          const victim = Math.floor(random() * replicas.length);
          replicas[victim]!.child.kill('SIGKILL');
          await replicas[victim]!.exited;
          kills++;
          // back after a moment: meanwhile its leases expire and the others take its stages over
          await sleep(random() * 1500);
          replicas[victim] = start(victim);
          lives.push(replicas[victim]!);
          nextKill = Date.now() + 600 + random() * 1800;
        }
        await sleep(100);
      }
      // a replica restarted a moment ago may not have its signal handlers yet: wait until it watches
      await until('every replica to be watching', () => replicas.every((r) => r.logs().includes('"msg":"watching"')), 30_000);
      for (const r of replicas) r.child.kill('SIGTERM');
      const codes = await Promise.all(replicas.map((r) => r.exited));
      expect(codes).toEqual([0, 0, 0]);
      expect(kills).toBeGreaterThanOrEqual(5);
      // claims whose outcome was never recorded: stages a killed replica left to others
      const abandoned = await store.abandonedClaims();
      console.log(`replicas: ${kills} kills, ${abandoned} stages taken over after a kill`);
      expect(abandoned).toBeGreaterThanOrEqual(1);

      // each stage's outcome recorded once per incident, across every life of every replica (a
      // killed process may not have logged its last one, hence at most once)
      const outcomes = new Map<string, number>();
      for (const life of lives) {
        for (const line of life.logs().split('\n')) {
          const m = /"incident":"([^"]+)".*"msg":"(harvested|drafted|posted for review|approved|tickets filed)"/.exec(line);
          if (m) outcomes.set(`${m[1]} ${m[2]}`, (outcomes.get(`${m[1]} ${m[2]}`) ?? 0) + 1);
        }
      }
      expect([...outcomes].filter(([, n]) => n > 1)).toEqual([]);
      expect(outcomes.size).toBeGreaterThanOrEqual(w.ids.length * 4);

      // one review post per incident
      const posts = w.postsByIncident();
      expect([...posts.keys()].sort()).toEqual([...w.ids].sort());
      for (const id of w.ids) expect(posts.get(id), id).toHaveLength(1);
      for (const row of rows) expect(row.slackTs, row.id).toBe(String(posts.get(row.id)![0]!.ts));

      // one ticket set per incident: no marker filed twice, and every recorded ticket exists
      const filed = w.filed();
      const markers = filed.map(markerOf);
      expect(new Set(markers).size).toBe(markers.length);
      const keys = new Set(filed.map((i) => `${w.ticketRepo}#${i.number}`));
      for (const row of rows) {
        expect(row.tickets.length, row.id).toBeGreaterThanOrEqual(3);
        expect(new Set(row.tickets.map((t) => t.marker)).size, row.id).toBe(row.tickets.length);
        for (const t of row.tickets) expect(keys.has(t.key), `${row.id} ${t.key}`).toBe(true);
        for (const t of row.tickets.filter((x) => x.status === 'created')) expect(markers.filter((m) => m === t.marker), t.marker).toHaveLength(1);
      }
      // `hindsight status` reads the same shared state
      const status = spawnSync(process.execPath, [CLI, 'status', '--format', 'json', '--database-url', url], { env: { PATH: process.env.PATH, HINDSIGHT_HOME: homes[0] }, encoding: 'utf8' });
      expect(status.status).toBe(0);
      const shown = JSON.parse(status.stdout) as { incidents: Array<{ id: string; stage: string }> };
      expect(shown.incidents.filter((i) => i.stage === 'ticketed')).toHaveLength(20);
    } finally {
      await store.close();
    }
  });

  it('rides out a database restart: the replica waits, reconnects and finishes every incident', { timeout: 120_000 }, async () => {
    const own = await startPostgres();
    try {
      world = await createReplicaWorld({ count: 3, idPrefix: 'PDBR' });
      const w = world;
      const url = await own.createDatabase('restart_1');
      const replica = startWatch(children, w.env(w.home(), url, { HINDSIGHT_LEASE_SECONDS: '4' }));
      w.resolve(w.ids);
      let store = await PostgresWatchStore.open(url, { max: 1 });
      await until('a first review post', async () => (await store.list()).some((r) => r.stage === 'posted'), 60_000);
      await store.close();
      await own.halt();
      await until('the replica to notice', () => replica.logs().includes('state store unavailable'), 30_000);
      await own.resume();
      store = await PostgresWatchStore.open(url, { max: 1 });
      try {
        await until('every incident ticketed', async () => {
          w.approvePosted();
          const rows = await store.list();
          return rows.length === 3 && rows.every((r) => r.stage === 'ticketed');
        }, 90_000);
      } finally {
        await store.close();
      }
      expect(replica.child.exitCode).toBeNull();
      for (const id of w.ids) expect(w.postsByIncident().get(id), id).toHaveLength(1);
      replica.child.kill('SIGTERM');
      expect(await replica.exited).toBe(0);
    } finally {
      await own.stop();
    }
  });

  it('hindsight db migrate applies the schema once and reports it up to date after', async () => {
    const url = await server.createDatabase(`replicas_${++databases}`);
    const env = { PATH: process.env.PATH, HINDSIGHT_DATABASE_URL: url };
    const first = spawnSync(process.execPath, [CLI, 'db', 'migrate'], { env, encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied 1, 2 \(schema version 2\)/);
    const second = spawnSync(process.execPath, [CLI, 'db', 'migrate'], { env, encoding: 'utf8' });
    expect(second.stdout).toMatch(/up to date/);
    const bad = spawnSync(process.execPath, [CLI, 'db', 'migrate', '--database-url', 'mysql://x'], { env, encoding: 'utf8' });
    expect(bad.status, bad.stderr).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--database-url: expected postgres:/);
  });
});
