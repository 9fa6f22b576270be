#!/usr/bin/env node
// Incident memory at scale: imports N synthetic past post-mortems (Markdown and JSON, 100,000 by
// default) into an embedded history on disk, then times similar-incident queries (by a stored
// incident, and by free text). Prints import documents/s and query p50/p95; timing is reported,
// never asserted (tests assert behaviour).
//
// With PostgreSQL available (HINDSIGHT_BENCH_DATABASE_URL, or Debian's binaries to start a
// throwaway server), the first --pg-docs of them (20,000 by default) are also imported into the
// Postgres history and the same queries timed there.
//
//   npm run bench                                  (after the other benchmarks)
//   node scripts/bench-history.mjs [--docs N] [--queries N] [--pg-docs N]
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);
const { values } = parseArgs({ options: { docs: { type: 'string', default: '100000' }, queries: { type: 'string', default: '300' }, 'pg-docs': { type: 'string', default: '20000' } } });
const DOCS = Number(values.docs);
const QUERIES = Number(values.queries);
const PG_DOCS = Math.min(DOCS, Number(values['pg-docs']));

let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const int = (a, b) => a + Math.floor(rand() * (b - a + 1));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const SERVICES = Array.from({ length: 400 }, (_, i) => `${pick(['checkout', 'search', 'ledger', 'auth', 'billing', 'media', 'geo', 'cart', 'orders', 'pricing'])}-${pick(['api', 'worker', 'gateway', 'sync', 'indexer'])}-${i}`);
const FAILURES = [
  ['ERROR could not acquire connection from pool {ds} within {n}ms', 'db.pool.max_size', 'connection pool exhausted after the pool size was lowered'],
  ['x509: certificate has expired or is not yet valid for {host}', 'tls.cert_path', 'the certificate expired and renewal was manual'],
  ['getaddrinfo ENOTFOUND {host}', 'dns.record_ttl', 'a DNS record was deleted by an infrastructure change'],
  ['container killed: OOMKilled exit code 137', 'memory_limit_mb', 'an unbounded cache exhausted memory after a release'],
  ['HTTP 429 Too Many Requests from {host}', 'client.max_rps', 'retries exceeded the upstream quota'],
  ['No space left on device: write /data/{ds}', 'retention_hours', 'retention kept too much data and the disk filled'],
  ['lock timeout on relation {ds}', 'migration.lock_timeout', 'a migration held an exclusive lock'],
  ['context deadline exceeded calling {host}', 'http.client.timeout_ms', 'the timeout was set below upstream latency'],
  ['consumer lag exceeded {n} messages on {ds}.events', 'worker.concurrency', 'consumers could not keep up with a traffic surge'],
  ['AccessDenied: not authorized to perform s3:GetObject on {ds}', 'iam.role_policy', 'an IAM policy change removed a permission'],
];
const DATASTORES = Array.from({ length: 200 }, (_, i) => `${pick(['orders', 'accounts', 'events', 'sessions', 'catalog'])}${i}`);

function doc(i) {
  const svc = pick(SERVICES);
  const [sig, key, cause] = pick(FAILURES);
  const ds = pick(DATASTORES);
  const host = `${ds}-db-primary-${int(1, 9)}.internal.acme.net`;
  const error = sig.replace('{ds}', ds).replace('{host}', host).replace('{n}', String(int(100, 90000)));
  const date = new Date(Date.UTC(2015, 0, 1) + i * 3_600_000).toISOString();
  if (i % 5 === 0) {
    return ['json', JSON.stringify({ id: `BENCH-${i}`, title: `${svc} incident ${i}`, date, services: [svc], severity: `SEV${int(1, 4)}`, summary: `${svc} degraded for ${int(5, 300)} minutes.`, root_cause: `${cause} (${key}).`, error_signatures: [error], hosts: [host], action_items: [{ title: `Prevent ${cause.split(' ').slice(0, 4).join(' ')}`, status: pick(['open', 'done']), ticket: `OPS-${i}` }] })];
  }
  return ['md', `# ${svc}: incident ${i}\n\n**Date:** ${date}\n**Severity:** SEV${int(1, 4)}\n**Services:** ${svc}\n\n## Summary\n\n${svc} degraded for ${int(5, 300)} minutes; ${int(1, 90)}% of requests failed.\n\n## Root cause\n\n${cause}: \`${key}\` on \`${host}\`.\n\n\`\`\`\n${error}\n\`\`\`\n\n## Action items\n\n- [${rand() < 0.5 ? 'x' : ' '}] Prevent ${cause.split(' ').slice(0, 5).join(' ')} (OPS-${i})\n- [ ] Alert on ${key}\n`];
}

const { IncidentStore } = await dist('store/incidentStore.js');
const { importPaths, parsePostmortem } = await dist('history/import.js');

const work = mkdtempSync(path.join(tmpdir(), 'hindsight-bench-history-'));
try {
  const docsDir = path.join(work, 'docs');
  const perDir = 1000;
  for (let i = 0; i < DOCS; i++) {
    const sub = path.join(docsDir, String(Math.floor(i / perDir)).padStart(4, '0'));
    if (i % perDir === 0) mkdirSync(sub, { recursive: true });
    const [ext, text] = doc(i);
    writeFileSync(path.join(sub, `pm-${i}.${ext}`), text);
  }
  const store = new IncidentStore(path.join(work, 'home', 'hindsight.db'));
  const t0 = performance.now();
  const summary = importPaths(store.history, [docsDir]);
  const importSeconds = (performance.now() - t0) / 1000;
  if (summary.failed.length) throw new Error(`import failed: ${summary.failed[0].path}: ${summary.failed[0].problem}`);

  // queries: new incidents written like the stored ones, and free text (an error message)
  const byIncident = [];
  const byText = [];
  for (let q = 0; q < QUERIES; q++) {
    const [ext, text] = doc(DOCS + q);
    const [incident] = parsePostmortem(`query.${ext}`, text);
    const t = performance.now();
    store.history.search(store.history.queryFromIncident(incident), {}, 5);
    byIncident.push(performance.now() - t);
    const t2 = performance.now();
    store.history.search(store.history.queryFromText(incident.error_signatures[0] ?? incident.title), {}, 5);
    byText.push(performance.now() - t2);
  }
  console.log(`history: ${summary.imported} past post-mortems imported in ${importSeconds.toFixed(1)} s (${Math.round(summary.imported / importSeconds)} documents/s)`);
  console.log(`history: similar-incident query by incident (${QUERIES}): p50 ${pct(byIncident, 50)} ms, p95 ${pct(byIncident, 95)} ms`);
  console.log(`history: similar-incident query by text     (${QUERIES}): p50 ${pct(byText, 50)} ms, p95 ${pct(byText, 95)} ms`);
  store.close();
  if (PG_DOCS > 0) await benchPostgres(docsDir, Math.ceil(PG_DOCS / perDir));
} finally {
  rmSync(work, { recursive: true, force: true });
}

function pct(xs, p) {
  return xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))].toFixed(1);
}

/** The same import and queries on the Postgres history (first `dirs` directories of documents). */
async function benchPostgres(docsDir, dirs) {
  const server = process.env.HINDSIGHT_BENCH_DATABASE_URL ? { url: process.env.HINDSIGHT_BENCH_DATABASE_URL, stop() {} } : await startThrowawayPostgres();
  if (!server) return console.log('history (postgres): skipped, no PostgreSQL (set HINDSIGHT_BENCH_DATABASE_URL or install postgresql)');
  const { PostgresHistory } = await dist('history/postgresIndex.js');
  const { PostgresBackend } = await dist('history/backend.js');
  const { importPathsInto } = await dist('history/import.js');
  const db = new PostgresHistory({ url: server.url, schema: `bench_history_${process.pid}` });
  try {
    const history = new PostgresBackend(db);
    const paths = readdirSync(docsDir).sort().slice(0, dirs).map((d) => path.join(docsDir, d));
    const t0 = performance.now();
    const summary = await importPathsInto(history, paths);
    const seconds = (performance.now() - t0) / 1000;
    const byIncident = [];
    const byText = [];
    for (let q = 0; q < QUERIES; q++) {
      const [ext, text] = doc(DOCS + q);
      const [incident] = parsePostmortem(`query.${ext}`, text);
      const t = performance.now();
      await history.search(history.queryFromIncident(incident), {}, 5);
      byIncident.push(performance.now() - t);
      const t2 = performance.now();
      await history.search(await history.queryFromText(incident.error_signatures[0] ?? incident.title), {}, 5);
      byText.push(performance.now() - t2);
    }
    console.log(`history (postgres): ${summary.imported} past post-mortems imported in ${seconds.toFixed(1)} s (${Math.round(summary.imported / seconds)} documents/s)`);
    console.log(`history (postgres): similar-incident query by incident (${QUERIES}): p50 ${pct(byIncident, 50)} ms, p95 ${pct(byIncident, 95)} ms`);
    console.log(`history (postgres): similar-incident query by text     (${QUERIES}): p50 ${pct(byText, 50)} ms, p95 ${pct(byText, 95)} ms`);
  } finally {
    await db.dropSchema().catch(() => {});
    await db.close();
    server.stop();
  }
}

/** Debian's PostgreSQL in a temporary directory on a free loopback port (as `postgres` when root); null without binaries. */
async function startThrowawayPostgres() {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => b - a)[0] : undefined;
  if (!version) return null;
  const bin = path.join(root, version, 'bin');
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'hindsight-bench-pg-'));
  if (asRoot) {
    const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const run = (tool, args) => execFileSync(asRoot ? 'runuser' : path.join(bin, tool), asRoot ? ['-u', 'postgres', '--', path.join(bin, tool), ...args] : args, { stdio: 'pipe', cwd: dir, env: { PATH: process.env.PATH, LC_ALL: 'C' } });
  const port = await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  run('pg_ctl', ['start', '-w', '-D', data, '-l', path.join(dir, 'log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${dir}' -c fsync=off -c synchronous_commit=off`]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
