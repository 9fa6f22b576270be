// Autonomous mode at scale: N resolved incidents through 1, 2 and 4 `hindsight watch` replicas on
// one PostgreSQL (a throwaway server, test/helpers/postgres.ts), vendors stubbed on loopback (the
// fakes of test/fakes/, test/helpers/replicaWorld.ts), deterministic analysis. Measures, per
// replica count, incidents/minute from "resolved" to "posted for review" and the p95 of that
// time per incident. Nobody approves, so the run ends at the review post: tickets are not part
// of the measure. Prints a table; the vendors' stand-ins run in this process, one thread.
//
//   npm run bench:replicas                      (builds first)
//   vite-node scripts/bench-replicas.ts [--incidents 1000] [--replicas 1,2,4]
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PostgresWatchStore } from '../src/watch/postgresWatchStore.js';
import { postgresAvailability, startPostgres } from '../test/helpers/postgres.js';
import { createReplicaWorld } from '../test/helpers/replicaWorld.js';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1] ?? fallback;
}

const INCIDENTS = Number(arg('incidents', '1000'));
const REPLICAS = arg('replicas', '1,2,4').split(',').map(Number);
if (!Number.isInteger(INCIDENTS) || INCIDENTS < 1 || REPLICAS.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error('bench-replicas: --incidents N (positive) and --replicas a,b,c (positive integers)');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

interface Result {
  replicas: number;
  seconds: number;
  perMinute: number;
  p50: number;
  p95: number;
  posts: number;
}

async function run(replicas: number, server: Awaited<ReturnType<typeof startPostgres>>, logs: string): Promise<Result> {
  const world = await createReplicaWorld({ count: INCIDENTS, intervalSeconds: 60, idPrefix: `PB${replicas}X` });
  const url = await server.createDatabase(`bench_${replicas}_${Date.now() % 1e6}`);
  const store = await PostgresWatchStore.open(url, { max: 1 });
  const children: ChildProcess[] = [];
  try {
    const resolvedAt = Date.now();
    world.resolve(world.ids, resolvedAt);
    for (let i = 0; i < replicas; i++) {
      const home = world.home();
      const child = spawn(process.execPath, [CLI, 'watch', '--apply'], { env: world.env(home, url), stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.pipe(createWriteStream(join(logs, `replicas-${replicas}-${i}.log`)));
      children.push(child);
    }
    const postedAt = new Map<string, number>();
    const deadline = Date.now() + 60 * 60_000;
    while (postedAt.size < INCIDENTS) {
      if (Date.now() > deadline) throw new Error(`${replicas} replicas: only ${postedAt.size}/${INCIDENTS} posted after an hour (logs: ${logs})`);
      await sleep(200);
      const now = Date.now();
      for (const row of await store.list()) if (!postedAt.has(row.id) && ['posted', 'approved', 'ticketed'].includes(row.stage)) postedAt.set(row.id, now);
    }
    const lastPosted = Math.max(...postedAt.values());
    const latencies = [...postedAt.values()].map((t) => (t - resolvedAt) / 1000).sort((a, b) => a - b);
    const seconds = (lastPosted - resolvedAt) / 1000;
    const posts = [...world.postsByIncident().values()].reduce((n, p) => n + p.length, 0);
    return { replicas, seconds, perMinute: (INCIDENTS / seconds) * 60, p50: percentile(latencies, 50), p95: percentile(latencies, 95), posts };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))));
    await store.close();
    await world.close();
  }
}

async function main() {
  if (!postgresAvailability().available) {
    console.error('bench-replicas: needs PostgreSQL binaries (Debian\'s postgresql package, or HINDSIGHT_PG_BIN)');
    process.exit(2);
  }
  const server = await startPostgres();
  const logs = mkdtempSync(join(tmpdir(), 'hs-bench-replicas-'));
  const results: Result[] = [];
  try {
    for (const n of REPLICAS) {
      const r = await run(n, server, logs);
      results.push(r);
      console.log(`${n} replica(s): ${INCIDENTS} incidents posted in ${r.seconds.toFixed(1)} s`);
    }
  } finally {
    await server.stop();
  }
  console.log(`\n${INCIDENTS} resolved incidents -> review post, on ${cpus().length} CPU core(s) shared by PostgreSQL, the replicas and the vendor stand-ins (logs: ${logs})`);
  console.log('replicas  incidents/min  p50 resolved->posted  p95 resolved->posted  review posts');
  for (const r of results) {
    console.log(`${String(r.replicas).padEnd(8)}  ${r.perMinute.toFixed(0).padStart(13)}  ${`${r.p50.toFixed(1)} s`.padStart(20)}  ${`${r.p95.toFixed(1)} s`.padStart(20)}  ${String(r.posts).padStart(12)}`);
  }
  if (results.some((r) => r.posts !== INCIDENTS)) {
    console.error('bench-replicas: some incident did not get exactly one review post');
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`bench-replicas: ${(err as Error).message}`);
  process.exit(1);
});
