#!/usr/bin/env node
// Benchmark of `hindsight postmortem` on a large synthetic context bundle.
//
//   npm run bench                                   full size: 1,000,000 log lines, 100 series
//   node scripts/bench.mjs --lines 20000 --series 5  quick run (separate file name)
//
// Options: --lines N (default 1000000), --series N (default 100), --points N (points per series,
// default 10000), --runs N (default 3, the median is reported), --regen (rewrite the bundle even
// if a matching one exists), --verify (one extra, untimed run whose JSON report is parsed and
// summarised).
//
// 1. Generates the bundle deterministically (seeded PRNG) into bench-data/ by streaming it to disk,
//    and reuses it when the sidecar `<file>.meta.json` has the same generator version and sizes.
// 2. Measures, each in a fresh child process: a bare `node -e ""` (startup), JSON.parse of the file
//    (timed inside the child, startup excluded), and the full post-mortem CLI (wall time, stdout to
//    /dev/null). Peak RSS via `/usr/bin/time -v` when present, else via an exit hook reporting
//    process.resourceUsage().maxRSS.
// 3. Prints a table with the targets (post-mortem ≤ 2× parse time; peak RSS < 3× file size).
//    Exits 0 whatever the numbers; non-zero only when the CLI (or the parse child) fails.
//
// Plain Node ESM, node:* only.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GENERATOR_VERSION = 'hindsight-bench-bundle/2';
const SEED = [0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x5eed2024];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATA_DIR = path.join(ROOT, 'bench-data');
const TIME_BIN = '/usr/bin/time';

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const opts = { lines: 1_000_000, series: 100, points: 10_000, runs: 3, regen: false, verify: false };
  const ints = new Set(['lines', 'series', 'points', 'runs']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log('usage: node scripts/bench.mjs [--lines N] [--series N] [--points N] [--runs N] [--regen] [--verify]');
      process.exit(0);
    }
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (!m) fail(`unknown argument "${arg}"`);
    const name = m[1];
    if (name === 'regen' || name === 'verify') {
      opts[name] = true;
      continue;
    }
    if (!ints.has(name)) fail(`unknown option --${name}`);
    const raw = m[2] ?? argv[++i];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < (name === 'runs' ? 1 : 0)) fail(`--${name} needs a non-negative integer, got "${raw}"`);
    opts[name] = n;
  }
  return opts;
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG (sfc32)

function makeRng(seed) {
  let [a, b, c, d] = seed.map((x) => x >>> 0);
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    hex: (n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(next() * 16)];
      return s;
    },
    b36: (n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(next() * 36)];
      return s;
    },
    upper: (n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(next() * 36)];
      return s;
    },
    uuid: () => `${r.hex(8)}-${r.hex(4)}-4${r.hex(3)}-${'89ab'[Math.floor(next() * 4)]}${r.hex(3)}-${r.hex(12)}`,
    ip: () => `10.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${1 + Math.floor(next() * 254)}`,
    // Roughly log-normal latency in ms.
    latency: (median) => Math.max(1, Math.round(median * Math.exp((next() + next() + next() - 1.5) * 1.2))),
    gauss: () => (next() + next() + next() + next() - 2) * 1.7320508,
  };
  return r;
}

/** Picks from [{w, ...}] by weight; precomputes the cumulative table. */
function weighted(items) {
  const total = items.reduce((s, x) => s + x.w, 0);
  const cum = [];
  let acc = 0;
  for (const x of items) cum.push((acc += x.w / total));
  return (rng) => {
    const u = rng.next();
    for (let i = 0; i < cum.length; i++) if (u < cum[i]) return items[i];
    return items[items.length - 1];
  };
}

// ---------------------------------------------------------------------------------------------
// The incident's clock (everything else hangs off these)

const T = (iso) => Date.parse(iso);
const iso = (ms) => new Date(ms).toISOString();
const isoSec = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const CULPRIT_DEPLOY_AT = T('2024-05-20T14:00:55Z');
const ONSET = T('2024-05-20T14:01:40Z'); // rollout of the culprit completes, errors start
const INCIDENT_AT = T('2024-05-20T14:02:31Z');
const ACK_AT = T('2024-05-20T14:04:02Z');
const ROLLBACK_AT = T('2024-05-20T14:35:20Z');
const RECOVERY = T('2024-05-20T14:37:05Z'); // rollback complete, errors stop
const RESOLVED_AT = T('2024-05-20T14:41:10Z');
const LOG_START = T('2024-05-20T10:30:00Z'); // 6 h of logs
const LOG_END = T('2024-05-20T16:30:00Z');
const METRIC_START = T('2024-05-19T18:00:00Z'); // 10,000 × 10 s ≈ 27.8 h, onset ~20 h in
const DEPLOY_FROM = LOG_END - 72 * 3600_000; // deployments over the 3 days before

const SERVICES = [
  { name: 'checkout-api', repo: 'acme/checkout', w: 30 },
  { name: 'cart-svc', repo: 'acme/cart', w: 15 },
  { name: 'payments', repo: 'acme/payments', w: 10 },
  { name: 'auth', repo: 'acme/auth', w: 10 },
  { name: 'search', repo: 'acme/search', w: 10 },
  { name: 'inventory', repo: 'acme/inventory', w: 10 },
  { name: 'shipping', repo: 'acme/shipping', w: 8 },
  { name: 'notifications', repo: 'acme/notifications', w: 7 },
];
const EXTRA_REPOS = ['acme/infra-config', 'acme/web-storefront'];

const PEOPLE = [
  ['U01JDOE0001', 'jdoe', 'Jane Doe'],
  ['U02DMORALES', 'dmorales-sre', 'Diego Morales'],
  ['U03JBECKER0', 'jbecker-ops', 'Jonas Becker'],
  ['U04PALMEIDA', 'palmeida', 'Pedro Almeida'],
  ['U05KWATANAB', 'kwatanabe', 'Kenji Watanabe'],
  ['U06EPETROVA', 'epetrova', 'Elena Petrova'],
  ['U07YTANAKA0', 'ytanaka', 'Yuki Tanaka'],
  ['U08NSVENSSO', 'nsvensson', 'Nora Svensson'],
  ['U09AOKAFOR0', 'aokafor', 'Amara Okafor'],
  ['U10LCHEN000', 'lchen', 'Li Chen'],
  ['U11MROSSI00', 'mrossi', 'Marco Rossi'],
  ['U12SPATEL00', 'spatel', 'Sana Patel'],
];

// ---------------------------------------------------------------------------------------------
// Log message templates (~40). `svc` restricts the service; `level` is the status field.

const WORDS = ['shoes', 'red dress', 'laptop', 'usb-c cable', 'coffee', 'tent', 'socks', 'phone case', 'desk lamp', 'backpack'];
const PATHS = ['/v1/cart', '/v1/orders', '/v1/products', '/v1/users/me', '/v1/search', '/v1/addresses', '/v1/wishlist'];
const ord = (r) => `ord_${r.b36(8)}`;
const usr = (r) => `usr_${r.range(10000, 999999)}`;
const sku = (r) => `SKU-${r.range(100000, 999999)}`;

const LOG_TEMPLATES = [
  // info (w ≈ 88 %)
  { level: 'info', w: 9, f: (r) => `GET ${r.pick(PATHS)} 200 in ${r.latency(35)}ms` },
  { level: 'info', w: 6, svc: 'checkout-api', f: (r) => `POST /v1/orders 201 in ${r.latency(80)}ms` },
  { level: 'info', w: 7, f: (r) => `GET /healthz 200 in ${r.latency(2)}ms` },
  { level: 'info', w: 5, svc: 'cart-svc', f: (r) => `POST /v1/cart/items 200 in ${r.latency(25)}ms` },
  { level: 'info', w: 4, f: (r) => `GET /v1/products/${sku(r)} 200 in ${r.latency(20)}ms` },
  { level: 'info', w: 3, svc: 'auth', f: (r) => `user ${usr(r)} logged in from ${r.ip()}` },
  { level: 'info', w: 3, svc: 'auth', f: (r) => `session ${r.uuid()} refreshed, ttl=${r.pick([900, 1800, 3600])}s` },
  { level: 'info', w: 2, f: (r) => `cache hit ratio ${(80 + r.next() * 19).toFixed(1)}% over last ${r.pick([30, 60, 300])}s` },
  { level: 'info', w: 2, f: (r) => { const m = r.range(2, 40); return `processed batch ${r.range(1, m)} of ${m} in ${r.latency(120)}ms`; } },
  { level: 'info', w: 3, f: (r) => `published event order.created id=${r.hex(16)} partition=${r.int(12)} offset=${r.range(100000, 9999999)}` },
  { level: 'info', w: 2, f: (r) => `consumed ${r.range(1, 500)} messages from topic orders lag=${r.int(40)}` },
  { level: 'info', w: 2, f: (r) => `GC pause ${r.latency(6)}ms heap_used=${r.range(120, 900)}MB heap_total=${r.range(900, 1400)}MB` },
  { level: 'info', w: 4, svc: 'search', f: (r) => `request_id=${r.uuid()} method=GET path=/v1/search q="${r.pick(WORDS)}" results=${r.int(500)} took=${r.latency(40)}ms` },
  { level: 'info', w: 3, svc: 'payments', f: (r) => `payment authorized for order ${ord(r)} amount=${(r.range(500, 50000) / 100).toFixed(2)} currency=${r.pick(['EUR', 'USD', 'GBP'])}` },
  { level: 'info', w: 3, svc: 'inventory', f: (r) => `inventory reserved sku=${sku(r)} qty=${r.range(1, 5)} warehouse=wh-${r.range(1, 9)}` },
  { level: 'info', w: 2, svc: 'shipping', f: (r) => `shipment ${r.upper(10)} label created carrier=${r.pick(['dhl', 'ups', 'dpd'])} weight=${(r.next() * 20).toFixed(2)}kg` },
  { level: 'info', w: 2, svc: 'notifications', f: (r) => `email queued template=order_confirmation job=${r.hex(12)}` },
  { level: 'info', w: 2, f: (r) => `feature flag checkout_v2 evaluated to ${r.chance(0.3)} for user ${usr(r)}` },
  { level: 'info', w: 2, f: (r) => { const a = r.int(10); return `connection pool stats: active=${a} idle=${10 - a} waiting=0`; } },
  { level: 'info', w: 1, f: (r) => `scheduled job cleanup_expired_carts removed ${r.int(2000)} rows in ${r.latency(300)}ms` },
  { level: 'info', w: 2, svc: 'auth', f: (r) => `token issued for client cl_${r.b36(10)} scope=read:orders expires_in=3600` },
  { level: 'info', w: 2, f: (r) => `upstream call to pricing-svc succeeded in ${r.latency(15)}ms` },
  { level: 'info', w: 2, f: (r) => `rate limiter: ${r.int(100)} of 100 tokens remaining for key ${r.hex(10)}` },
  { level: 'info', w: 2, f: (r) => `served static asset /assets/app.${r.hex(8)}.js (${r.range(1000, 900000)} bytes)` },
  // warn (w ≈ 9 %)
  { level: 'warn', w: 2, f: (r) => `slow query took ${r.range(500, 4000)}ms: SELECT * FROM orders WHERE customer_id = $1 LIMIT 50` },
  { level: 'warn', w: 1.5, svc: 'payments', f: (r) => `retrying request to payments-gateway attempt ${r.range(1, 3)}/3 after ${r.pick([100, 200, 400, 800])}ms` },
  { level: 'warn', w: 1.5, svc: 'cart-svc', f: (r) => `cache miss for key cart:${usr(r)}, falling back to db` },
  { level: 'warn', w: 1, f: (r) => `high memory usage ${r.range(80, 97)}% (limit ${r.pick([512, 1024, 2048])}Mi)` },
  { level: 'warn', w: 1, f: (r) => `deprecated API v0 called by client cl_${r.b36(10)}` },
  { level: 'warn', w: 0.5, svc: 'checkout-api', f: (r) => `circuit breaker half-open for inventory-svc after ${r.range(3, 20)} failures` },
  { level: 'warn', w: 1.5, f: (r) => `request queue depth ${r.range(101, 400)} exceeds soft limit 100` },
  // error background (w ≈ 3 %)
  { level: 'error', w: 0.6, f: (r) => `NullPointerException in OrderSerializer.toJSON at line ${r.range(40, 300)}` },
  { level: 'error', w: 0.6, svc: 'shipping', f: (r) => `timeout after ${r.pick([3000, 5000, 10000])}ms calling rates.carrier-api.example.com` },
  { level: 'error', w: 0.5, svc: 'notifications', f: (r) => `failed to send email job=${r.hex(12)}: SMTP 451 4.7.1 temporary failure` },
  { level: 'error', w: 0.6, svc: 'payments', f: (r) => `payment declined for order ${ord(r)}: ${r.pick(['card_expired', 'insufficient_funds', 'do_not_honor'])}` },
  { level: 'error', w: 0.4, f: (r) => `ECONNRESET while reading from redis ${r.ip()}:6379` },
  { level: 'error', w: 0.3, f: (r) => `Error: connect ETIMEDOUT ${r.ip()}:443\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)` },
];

// Lines of the incident itself: from ONSET until RECOVERY, on checkout-api (and its callers).
const INCIDENT_TEMPLATES = [
  { level: 'error', w: 5, svc: 'checkout-api', f: (r) => `DB_CONNECTION_ERROR: pool exhausted (10/10) after waiting ${r.range(5000, 5100)}ms for order ${ord(r)}` },
  { level: 'error', w: 3, svc: 'checkout-api', f: (r) => `POST /v1/orders 503 in ${r.range(5000, 5200)}ms` },
  { level: 'error', w: 2, svc: 'checkout-api', f: (r) => `HikariPool-1 - Connection is not available, request timed out after ${r.range(5000, 5050)}ms.` },
  { level: 'warn', w: 1, svc: 'checkout-api', f: (r) => `health check degraded: db latency ${r.range(800, 5000)}ms` },
  { level: 'error', w: 1.5, svc: 'cart-svc', f: (r) => `upstream checkout-api returned 503 for cart ${r.uuid()} after ${r.range(5000, 5300)}ms` },
];

// ---------------------------------------------------------------------------------------------
// Streaming writer: strings are batched and written synchronously in ~1 MiB chunks.

class ChunkWriter {
  constructor(file) {
    this.fd = fs.openSync(file, 'w');
    this.parts = [];
    this.pending = 0;
    this.bytes = 0;
  }
  write(s) {
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= 1 << 20) this.flush();
  }
  flush() {
    if (!this.parts.length) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.pending = 0;
  }
  close() {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

const J = JSON.stringify;

// ---------------------------------------------------------------------------------------------
// Bundle sections

function writeLogs(w, rng, n) {
  const hosts = new Map(SERVICES.map((s) => [s.name, Array.from({ length: 8 }, () => `${s.name.split('-')[0]}-${rng.hex(4)}-${rng.b36(5)}`)]));
  const pickService = weighted(SERVICES);
  const bySvc = new Map();
  for (const s of SERVICES) {
    bySvc.set(s.name, weighted(LOG_TEMPLATES.filter((t) => !t.svc || t.svc === s.name)));
  }
  const pickIncident = weighted(INCIDENT_TEMPLATES);
  const span = LOG_END - LOG_START;
  w.write('"logs":[');
  for (let i = 0; i < n; i++) {
    const t = LOG_START + Math.floor(((i + rng.next()) * span) / n);
    let tpl;
    let svc;
    if (t >= ONSET && t < RECOVERY && rng.chance(0.15)) {
      tpl = pickIncident(rng);
      svc = tpl.svc;
    } else {
      svc = pickService(rng).name;
      tpl = bySvc.get(svc)(rng);
    }
    const host = rng.pick(hosts.get(svc));
    w.write(
      `${i ? ',' : ''}\n{"timestamp":"${iso(t)}","service":"${svc}","status":"${tpl.level}","host":"${host}","message":${J(tpl.f(rng))}}`,
    );
  }
  w.write('\n]');
}

function seriesDefs(count) {
  // Step changes at the onset (and back at recovery) on the first few; the rest are background.
  const defs = [
    { metric: 'trace.http.request.errors', svc: 'checkout-api', extra: 'http.status_class:5xx', agg: 'sum', unit: 'request', base: 0.4, noise: 0.6, count: true, step: 140 },
    { metric: 'trace.http.request.duration.by.service.99p', svc: 'checkout-api', agg: 'max', unit: 'second', base: 0.18, noise: 0.03, step: 5.0 },
    { metric: 'postgresql.percent_usage_connections', svc: 'checkout-api', extra: 'db:orders', agg: 'avg', unit: 'fraction', base: 0.32, noise: 0.04, step: 0.68 },
    { metric: 'trace.http.request.errors', svc: 'cart-svc', extra: 'http.status_class:5xx', agg: 'sum', unit: 'request', base: 0.2, noise: 0.3, count: true, step: 35 },
    { metric: 'trace.http.request.hits', svc: 'checkout-api', agg: 'sum', unit: 'request', base: 420, noise: 30, count: true, step: -150 },
  ];
  const metrics = [
    ['trace.http.request.hits', 'sum', 'request', 300, 25, true],
    ['trace.http.request.errors', 'sum', 'request', 0.5, 0.7, true],
    ['trace.http.request.duration.by.service.99p', 'max', 'second', 0.2, 0.04, false],
    ['system.cpu.user', 'avg', 'percent', 35, 6, false],
    ['system.mem.used', 'avg', 'byte', 1.2e9, 4e7, false],
    ['runtime.node.event_loop.delay.max', 'max', 'nanosecond', 2.5e7, 6e6, false],
    ['kubernetes.containers.restarts', 'sum', 'restart', 0, 0.05, true],
    ['redis.net.clients', 'avg', 'connection', 40, 4, false],
    ['postgresql.connections', 'avg', 'connection', 30, 3, false],
    ['aws.elb.request_count', 'sum', 'request', 900, 60, true],
    ['jvm.gc.pause_time', 'sum', 'millisecond', 12, 5, false],
    ['kafka.consumer.lag', 'max', 'message', 15, 10, true],
    ['system.net.bytes_rcvd', 'sum', 'byte', 4e6, 5e5, false],
  ];
  const out = [];
  for (let k = 0; out.length < count; k++) {
    if (k < defs.length) {
      out.push(defs[k]);
      continue;
    }
    const [metric, agg, unit, base, noise, isCount] = metrics[k % metrics.length];
    const svc = SERVICES[Math.floor(k / metrics.length) % SERVICES.length].name;
    const region = Math.floor(k / (metrics.length * SERVICES.length));
    out.push({ metric, svc, extra: region ? `region:eu-${region}` : undefined, agg, unit, base, noise, count: isCount, step: 0 });
  }
  return out;
}

function fmtValue(v, isCount) {
  if (isCount) return `${Math.max(0, Math.round(v))}.0`;
  const a = Math.abs(v);
  if (a >= 1e5) return String(Math.round(v));
  return String(Number(v.toPrecision(6)));
}

function writeMetrics(w, rng, nSeries, nPoints) {
  const defs = seriesDefs(nSeries);
  w.write('"metrics":[');
  defs.forEach((d, idx) => {
    const tags = [`env:prod`, `service:${d.svc}`, ...(d.extra ? [d.extra] : [])].sort();
    const scope = tags.join(',');
    const expression = `${d.agg}:${d.metric}{${scope}}${d.count ? '.as_count()' : ''}`;
    const end = METRIC_START + (nPoints - 1) * 10_000;
    const head = {
      metric: d.metric,
      display_name: d.metric,
      expression,
      scope,
      aggr: d.agg,
      unit: [{ family: 'general', name: d.unit, plural: `${d.unit}s`, scale_factor: 1, short_name: d.unit }, null],
      interval: 10,
      start: METRIC_START,
      end,
      length: nPoints,
      query_index: idx,
      tag_set: tags,
    };
    w.write(`${idx ? ',' : ''}\n${J(head).slice(0, -1)},"pointlist":[`);
    // A run of missing points in every 7th series (collector restart), plus scattered nulls.
    const gapAt = idx % 7 === 3 ? Math.floor(nPoints * 0.4) : -1;
    let chunk = '';
    for (let p = 0; p < nPoints; p++) {
      const t = METRIC_START + p * 10_000;
      let value;
      if ((gapAt >= 0 && p >= gapAt && p < gapAt + 60) || rng.chance(0.003)) {
        value = 'null';
      } else {
        const daily = 1 + 0.25 * Math.sin(((t / 3600_000) * 2 * Math.PI) / 24);
        let v = d.base * daily + d.noise * rng.gauss();
        if (d.step && t >= ONSET && t < RECOVERY) v += d.step * (0.85 + 0.3 * rng.next());
        value = fmtValue(v, d.count);
      }
      chunk += `${p ? ',' : ''}[${t}.0,${value}]`;
      if (chunk.length > 65536) {
        w.write(chunk);
        chunk = '';
      }
    }
    w.write(`${chunk}]}`);
  });
  w.write('\n]');
}

const COMMIT_MESSAGES = [
  'fix: handle empty cart on checkout',
  'chore(deps): bump express from 4.19.1 to 4.19.2',
  'feat: add wishlist sharing endpoint',
  'refactor: extract pricing client',
  'test: cover pagination cursors',
  'perf: cache product lookups for 60s',
  'fix: retry idempotent payment calls',
  'docs: update runbook for inventory sync',
  'feat(search): boost in-stock items',
  'chore: tune HPA thresholds',
  'fix: close redis connections on shutdown',
  'feat: emit order.created events with schema v2',
];
const FILE_CHANGES = [
  ['src/routes/orders.ts', (r) => `@@ -${r.range(10, 200)},6 +${r.range(10, 200)},7 @@ export async function createOrder(req, res) {\n   const cart = await carts.get(req.user.id);\n-  if (!cart) return res.status(404).end();\n+  if (!cart || cart.items.length === 0) {\n+    return res.status(422).json({ error: 'empty_cart' });\n+  }\n   const order = await orders.create(cart);`],
  ['package.json', (r) => `@@ -${r.range(12, 40)},7 +${r.range(12, 40)},7 @@\n     "cors": "^2.8.5",\n-    "express": "^4.19.1",\n+    "express": "^4.19.2",\n     "pino": "^9.0.0",`],
  ['src/clients/pricing.ts', (r) => `@@ -1,4 +1,9 @@\n+import { Agent } from 'undici';\n+\n+const agent = new Agent({ connections: ${r.range(8, 64)} });\n+\n export async function price(sku: string) {`],
  ['test/pagination.spec.ts', (r) => `@@ -41,6 +41,10 @@ describe('decodeCursor', () => {\n+  it('rejects an empty cursor', () => {\n+    expect(() => decodeCursor('')).toThrow(InvalidCursorError);\n+  });\n+`],
  ['deploy/hpa.yaml', (r) => `@@ -8,3 +8,3 @@ spec:\n   minReplicas: 3\n-  maxReplicas: ${r.range(6, 10)}\n+  maxReplicas: ${r.range(11, 20)}`],
  ['README.md', () => `@@ -20,2 +20,3 @@\n ## Running locally\n+Run \`make dev\` to start the dependencies.`],
  ['src/cache.ts', (r) => `@@ -3,2 +3,2 @@\n-const TTL_SECONDS = 30;\n+const TTL_SECONDS = ${r.pick([60, 120, 300])};`],
];

function sha(rng) {
  return rng.hex(40);
}

function makeCommit(rng, repo, atMs, message, files) {
  const [, login, name] = rng.pick(PEOPLE);
  const s = sha(rng);
  return {
    sha: s,
    commit: {
      message,
      author: { name, email: `${login}@acme.example`, date: isoSec(atMs - rng.range(600, 7200) * 1000) },
      committer: { name: 'GitHub', email: 'noreply@github.com', date: isoSec(atMs - rng.range(60, 600) * 1000) },
    },
    author: { login, type: 'User' },
    committer: { login: 'web-flow', type: 'User' },
    parents: [{ sha: sha(rng) }],
    html_url: `https://github.com/${repo}/commit/${s}`,
    files,
  };
}

function makeDeployment(rng, id, repo, atMs, commitSha, ref, env, description, outcome = 'success', finishedMs) {
  const finished = finishedMs ?? atMs + rng.range(45, 120) * 1000;
  const statuses = [
    { id: id * 10 + 2, state: outcome, created_at: isoSec(finished), description: outcome === 'success' ? 'Deployment finished successfully.' : 'Rollout failed: readiness probe timeout' },
    { id: id * 10 + 1, state: 'in_progress', created_at: isoSec(atMs + 11_000), description: 'Rolling out' },
    { id: id * 10, state: 'queued', created_at: isoSec(atMs), description: 'Queued' },
  ];
  return {
    url: `https://api.github.com/repos/${repo}/deployments/${id}`,
    id,
    sha: commitSha,
    ref,
    task: 'deploy',
    environment: env,
    production_environment: env === 'production',
    payload: {},
    description,
    creator: { login: 'deploy-bot', type: 'Bot' },
    created_at: isoSec(atMs),
    updated_at: isoSec(finished),
    statuses,
  };
}

function buildGithub(rng, nDeployments) {
  const repoNames = [...SERVICES.map((s) => s.repo), ...EXTRA_REPOS];
  const repos = new Map(repoNames.map((n) => [n, { full_name: n, deployments: [], commits: [], deployment_commits: {}, version: [2, rng.range(0, 9), 0] }]));
  const times = Array.from({ length: Math.max(0, nDeployments - 2) }, () => DEPLOY_FROM + Math.floor(rng.next() * (LOG_END - DEPLOY_FROM)));
  times.sort((a, b) => a - b);
  let nextId = 1_427_380_000;
  const events = [];
  const add = (repoName, atMs, commits, env, description, outcome, refOverride, shaOverride, finishedMs) => {
    const repo = repos.get(repoName);
    const id = nextId++;
    repo.version[2]++;
    const ref = refOverride ?? `v${repo.version.join('.')}`;
    const dep = makeDeployment(rng, id, repoName, atMs, shaOverride ?? commits[commits.length - 1].sha, ref, env, description ?? `Deploy ${ref} to ${env}`, outcome, finishedMs);
    repo.deployments.push(dep);
    repo.commits.push(...commits);
    repo.deployment_commits[String(id)] = commits.map((c) => c.sha);
    events.push({
      id: 7_648_000_000 + id - 1_427_380_000,
      date_happened: Math.floor(Date.parse(dep.updated_at) / 1000),
      title: `Deployed ${repoName.split('/')[1]} ${ref} to ${env}`,
      text: `%%% \nDeployment ${id} of ${repoName}@${dep.sha.slice(0, 7)} finished\n %%%`,
      alert_type: outcome === 'success' ? 'info' : 'error',
      priority: 'normal',
      source_type_name: 'deploy',
      tags: [`service:${repoName.split('/')[1]}`, `env:${env}`, `repo:${repoName}`],
    });
    return dep;
  };
  const randomCommits = (repoName, atMs) =>
    Array.from({ length: rng.range(1, 3) }, () => {
      const files = Array.from({ length: rng.range(1, 3) }, () => {
        const [filename, patch] = rng.pick(FILE_CHANGES);
        const p = patch(rng);
        const additions = (p.match(/\n\+/g) || []).length;
        const deletions = (p.match(/\n-/g) || []).length;
        return { sha: sha(rng), filename, status: 'modified', additions, deletions, changes: additions + deletions, patch: p };
      });
      return makeCommit(rng, repoName, atMs, rng.pick(COMMIT_MESSAGES), files);
    });
  let culpritDone = false;
  let lastCheckoutSha = null;
  for (const t of times) {
    if (!culpritDone && t > CULPRIT_DEPLOY_AT) {
      culpritDone = true;
      addCulprit();
    }
    const repoName = rng.chance(0.85) ? rng.pick(repoNames) : rng.pick(EXTRA_REPOS);
    // Keep the 10 minutes before the onset free of other checkout deployments.
    const name = repoName === 'acme/checkout' && t > CULPRIT_DEPLOY_AT - 600_000 && t < RESOLVED_AT ? 'acme/search' : repoName;
    const env = rng.chance(0.2) ? 'staging' : 'production';
    const dep = add(name, t, randomCommits(name, t), env, undefined, rng.chance(0.05) ? 'failure' : 'success');
    if (name === 'acme/checkout' && env === 'production') lastCheckoutSha = dep.sha;
  }
  if (!culpritDone) addCulprit();

  function addCulprit() {
    const patch = '@@ -3,4 +3,4 @@ pool:\n   host: orders-db.internal\n-  max_connections: 100\n+  max_connections: 10\n   idle_timeout_ms: 30000';
    const c = makeCommit(rng, 'acme/checkout', CULPRIT_DEPLOY_AT, 'Reduce DB pool size to stay under the new RDS connection limit', [
      { sha: sha(rng), filename: 'config/db.yaml', status: 'modified', additions: 1, deletions: 1, changes: 2, patch },
    ]);
    const prev = lastCheckoutSha ?? sha(rng);
    // Its rollout completes exactly at the onset.
    const dep = add('acme/checkout', CULPRIT_DEPLOY_AT, [c], 'production', undefined, 'success', undefined, undefined, ONSET);
    // Rollback: redeploys the previous sha, ships no new commits.
    const rb = add('acme/checkout', ROLLBACK_AT, [], 'production', `Rollback to previous release (was ${dep.ref})`, 'success', `rollback-${dep.ref}`, prev, RECOVERY);
    rb.payload = { rollback_of: dep.id };
  }
  for (const r of repos.values()) delete r.version;
  return { repos: [...repos.values()], events };
}

function buildSlack(rng, n) {
  const lines = [
    'seeing 500s on checkout, mostly POST /v1/orders',
    'db connections look pegged at 10/10 on checkout-api',
    'anything deployed in the last 30 min?',
    'checkout v2.4.x went out at 14:00, looking at the diff',
    'p99 on checkout is over 5s',
    'cart is also throwing 503s but that looks like fallout from checkout',
    'rolling back checkout to the previous release',
    'rollback finished, error rate dropping',
    'still seeing a few timeouts from shipping but unrelated (carrier api)',
    'status page updated',
    'customer support reports failed orders since ~14:02',
    'I can take the comms',
    'grafana link for the pool metrics: https://grafana.example/d/abc',
    'opened a ticket to add an alert on pool saturation',
    'confirmed: max_connections was lowered from 100 to 10',
    '+1',
    'ack',
    'looking',
  ];
  const users = Object.fromEntries(PEOPLE.map(([id, name, real]) => [id, { name, real_name: real, tz: 'Europe/Berlin', is_bot: false }]));
  const messages = [];
  const start = INCIDENT_AT + 29_000;
  const end = RESOLVED_AT + 30 * 60_000;
  const tsOf = (ms) => `${Math.floor(ms / 1000)}.${String(rng.int(1_000_000)).padStart(6, '0')}`;
  const times = Array.from({ length: n }, () => start + Math.floor(rng.next() * (end - start))).sort((a, b) => a - b);
  const threads = [];
  times.forEach((t, i) => {
    if (i % 25 === 0) {
      messages.push({ type: 'message', subtype: 'bot_message', bot_id: 'B0PAGERDUT1', username: 'PagerDuty', text: `:rotating_light: update on #7402 checkout-api: 5xx error rate above 5%`, ts: tsOf(t) });
      return;
    }
    const [user] = rng.pick(PEOPLE);
    const m = { type: 'message', user, text: rng.pick(lines), ts: tsOf(t) };
    if (threads.length && rng.chance(0.35)) m.thread_ts = rng.pick(threads);
    else if (rng.chance(0.2)) {
      m.thread_ts = m.ts;
      threads.push(m.ts);
    }
    if (rng.chance(0.1)) m.text += ` <@${rng.pick(PEOPLE)[0]}>`;
    messages.push(m);
  });
  return { channel: { id: 'C0BENCH0001', name: 'inc-2024-05-20-checkout' }, messages, users };
}

function buildPagerduty(rng, n) {
  const entries = [];
  const id = () => `R${rng.upper(25)}`;
  const pd = (type, atMs, summary, agentName, extra = {}) =>
    entries.push({
      id: id(),
      type,
      created_at: isoSec(atMs).replace('Z', '+00:00'),
      summary,
      agent: agentName ? { type: 'user_reference', summary: agentName } : { type: 'generic_events_api_inbound_integration_reference', summary: 'Datadog' },
      channel: { type: type === 'trigger_log_entry' ? 'api' : 'web_trigger' },
      ...extra,
    });
  pd('trigger_log_entry', INCIDENT_AT, 'Triggered through the API.', null);
  pd('acknowledge_log_entry', ACK_AT, 'Acknowledged by Diego Morales.', 'Diego Morales');
  const rest = Math.max(0, n - 3);
  const times = Array.from({ length: rest }, () => INCIDENT_AT + 1000 + Math.floor(rng.next() * (RESOLVED_AT - INCIDENT_AT - 2000))).sort((a, b) => a - b);
  for (const t of times) {
    const [, , real] = rng.pick(PEOPLE);
    const kind = rng.next();
    if (kind < 0.6) pd('notify_log_entry', t, `Notified ${real} by ${rng.pick(['push notification', 'SMS', 'email', 'phone'])}.`, real, { user: { type: 'user_reference', summary: real } });
    else if (kind < 0.8) pd('annotate_log_entry', t, rng.pick(['Rolling back checkout.', 'DB pool saturated.', 'Comms lead assigned.', 'Customer impact confirmed.']), real);
    else if (kind < 0.9) pd('escalate_log_entry', t, `Escalated to ${real} (level ${rng.range(1, 3)}).`, null);
    else pd('assign_log_entry', t, `Assigned to ${real}.`, real);
  }
  pd('resolve_log_entry', RESOLVED_AT, 'Resolved by Diego Morales.', 'Diego Morales');
  const alerts = Array.from({ length: 20 }, (_, i) => ({
    id: `A${rng.upper(12)}`,
    created_at: isoSec(INCIDENT_AT - 1000 + i * 30_000),
    summary: i % 2 ? '[P1] checkout-api 5xx error rate above 5% on env:prod' : '[P2] checkout-api p99 latency above 2s',
    severity: i % 2 ? 'critical' : 'error',
    body: { details: { monitor_id: 123456 + (i % 2) } },
  }));
  return { log_entries: entries, alerts };
}

function generateBundle(file, opts) {
  const rng = makeRng(SEED);
  const tmp = `${file}.tmp-${process.pid}`;
  const w = new ChunkWriter(tmp);
  try {
    const incident = {
      id: 'QBENCH7402LARGE',
      source: 'pagerduty',
      title: 'checkout-api: 5xx error rate above 5%',
      service: 'checkout-api',
      severity: 'SEV1',
      status: 'resolved',
      urgency: 'high',
      incident_number: 7402,
      created_at: isoSec(INCIDENT_AT),
      acknowledged_at: isoSec(ACK_AT),
      resolved_at: isoSec(RESOLVED_AT),
      url: 'https://acme.pagerduty.com/incidents/QBENCH7402LARGE',
    };
    const harvest = {
      harvested_at: '2024-05-20T17:00:00.000Z',
      window: { from: iso(DEPLOY_FROM), to: iso(LOG_END) },
      errors: [],
      truncated: [],
    };
    const github = buildGithub(rng, 200);
    const slack = buildSlack(rng, 300);
    const pagerduty = buildPagerduty(rng, 250);
    w.write(`{"bundle_version":1,\n"incident":${J(incident)},\n"harvest":${J(harvest)},\n"sources":{\n`);
    w.write(`"pagerduty":${J(pagerduty)},\n"slack":${J(slack)},\n"github":${J({ repos: github.repos })},\n`);
    w.write(`"datadog":{"events":${J(github.events)},"snapshots":[{"name":"5xx rate","snapshot_url":"https://p.datadoghq.com/snapshot/view/bench.png","graph_def":"{}"}],\n`);
    writeMetrics(w, rng, opts.series, opts.points);
    w.write('},\n');
    writeLogs(w, rng, opts.lines);
    w.write('\n}}\n');
    w.close();
  } catch (err) {
    try { fs.closeSync(w.fd); } catch {}
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.renameSync(tmp, file);
  return fs.statSync(file).size;
}

function ensureBundle(opts) {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const full = opts.lines === 1_000_000 && opts.series === 100 && opts.points === 10_000;
  const file = path.join(DATA_DIR, full ? 'large-bundle.json' : `bundle-${opts.lines}l-${opts.series}s-${opts.points}p.json`);
  const metaFile = `${file}.meta.json`;
  const want = { generator: GENERATOR_VERSION, lines: opts.lines, series: opts.series, points: opts.points };
  if (!opts.regen && fs.existsSync(file) && fs.existsSync(metaFile)) {
    try {
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
      const same = Object.entries(want).every(([k, v]) => meta[k] === v) && meta.bytes === fs.statSync(file).size;
      if (same) {
        console.log(`bundle: reusing ${path.relative(ROOT, file)} (${GENERATOR_VERSION})`);
        return { file, bytes: meta.bytes };
      }
    } catch {
      // fall through and regenerate
    }
  }
  fs.rmSync(metaFile, { force: true });
  console.log(`bundle: generating ${path.relative(ROOT, file)} (${opts.lines} log lines, ${opts.series} series × ${opts.points} points) ...`);
  const t0 = performance.now();
  const bytes = generateBundle(file, opts);
  const ms = performance.now() - t0;
  fs.writeFileSync(metaFile, JSON.stringify({ ...want, bytes }, null, 2) + '\n');
  console.log(`bundle: wrote ${fmtMiB(bytes)} MiB (${bytes} bytes) in ${(ms / 1000).toFixed(1)} s; generator peak RSS ${fmtMiB(process.resourceUsage().maxRSS * 1024)} MiB`);
  return { file, bytes };
}

// ---------------------------------------------------------------------------------------------
// Measuring child processes

// BENCH_NO_TIME=1 forces the exit-hook fallback (to test it on a machine that has /usr/bin/time).
const HAVE_TIME = (() => {
  if (process.env.BENCH_NO_TIME) return false;
  try {
    fs.accessSync(TIME_BIN, fs.constants.X_OK);
    return spawnSync(TIME_BIN, ['-v', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] }).stderr.toString().includes('Maximum resident set size');
  } catch {
    return false;
  }
})();

// The exit hook used when /usr/bin/time is not available (maxRSS is in KB).
const RSS_HOOK = `process.on('exit', () => fs.writeSync(2, '\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n'));`;

const PARSE_CHILD = `
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
${HAVE_TIME ? '' : RSS_HOOK}
const file = process.argv[1];
const t0 = performance.now();
const text = fs.readFileSync(file, 'utf8');
const t1 = performance.now();
const value = JSON.parse(text);
const t2 = performance.now();
const keys = Object.keys(value).length;
process.stdout.write('PARSE ' + JSON.stringify({ readMs: t1 - t0, parseMs: t2 - t1, totalMs: t2 - t0, keys }) + '\\n');
`;

const CLI_WRAPPER = `
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
${RSS_HOOK}
const cli = process.argv[1];
process.argv = [process.argv[0], cli, ...process.argv.slice(2)];
await import(pathToFileURL(cli).href);
`;

/**
 * Runs `node ...nodeArgs` in a fresh process; returns wall time (ms, measured here, so it includes
 * process start-up), peak RSS (KB), exit status and output.
 */
function runChild(nodeArgs, { stdout = 'pipe', rssViaHook = false } = {}) {
  const cmd = HAVE_TIME ? TIME_BIN : process.execPath;
  const args = HAVE_TIME ? ['-v', process.execPath, ...nodeArgs] : nodeArgs;
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', stdout, 'pipe'], maxBuffer: 256 << 20 });
  const wallMs = performance.now() - t0;
  const stderr = r.stderr ? r.stderr.toString() : '';
  let maxRssKb = NaN;
  const m = HAVE_TIME ? /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(stderr) : rssViaHook ? /MAXRSS (\d+)/.exec(stderr) : null;
  if (m) maxRssKb = Number(m[1]);
  return { wallMs, maxRssKb, status: r.status, signal: r.signal, error: r.error, stdout: r.stdout ? r.stdout.toString() : '', stderr };
}

function childFailed(what, r) {
  // Drop /usr/bin/time's own report (it follows the child's stderr) and the exit hook's line.
  const cut = r.stderr.search(/^\s*Command (exited with non-zero status|being timed)/m);
  const own = (cut >= 0 ? r.stderr.slice(0, cut) : r.stderr).replace(/^MAXRSS \d+$/m, '');
  process.stderr.write(`bench: ${what} failed (${r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit ${r.status}`})\n${own.trim().slice(-4000)}\n`);
  process.exit(1);
}

function cliArgs(file) {
  const args = ['postmortem', '--bundle', file, '--format', 'json', '--no-store'];
  return HAVE_TIME ? [CLI, ...args] : ['--input-type=module', '-e', CLI_WRAPPER, CLI, ...args];
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmtMiB = (bytes) => (bytes / 1048576).toFixed(1);
const fmtMs = (ms) => (Number.isFinite(ms) ? ms.toFixed(0) : 'n/a');

function measure(file, opts) {
  const devNull = fs.openSync('/dev/null', 'w');
  const runs = opts.runs;
  const startup = [];
  const parse = [];
  const cli = [];
  console.log(`\nmeasuring (${runs} runs each, fresh process per run; peak RSS via ${HAVE_TIME ? `${TIME_BIN} -v` : 'process.resourceUsage().maxRSS exit hook'})`);
  for (let i = 0; i < Math.max(runs, 5); i++) {
    const r = runChild(['-e', ''], { stdout: devNull });
    if (r.status !== 0) childFailed('node -e ""', r);
    startup.push(r.wallMs);
  }
  console.log(`  node startup      ${startup.map(fmtMs).join(', ')} ms`);
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const r = runChild(['--input-type=module', '-e', PARSE_CHILD, file], { rssViaHook: true });
    const line = /^PARSE (.*)$/m.exec(r.stdout);
    if (r.status !== 0 || !line) childFailed('JSON.parse child', r);
    const p = JSON.parse(line[1]);
    parse.push({ ...p, wallMs: r.wallMs, maxRssKb: r.maxRssKb });
    console.log(`  JSON.parse #${i + 1}     read ${fmtMs(p.readMs)} + parse ${fmtMs(p.parseMs)} = ${fmtMs(p.totalMs)} ms in-process; wall ${fmtMs(r.wallMs)} ms; peak RSS ${fmtMiB(r.maxRssKb * 1024)} MiB`);
  }
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const r = runChild(cliArgs(file), { stdout: devNull, rssViaHook: true });
    if (r.status !== 0 || r.error || r.signal) childFailed('hindsight postmortem', r);
    cli.push(r);
    console.log(`  post-mortem #${i + 1}    wall ${fmtMs(r.wallMs)} ms; peak RSS ${fmtMiB(r.maxRssKb * 1024)} MiB`);
  }
  fs.closeSync(devNull);
  return {
    startupMs: median(startup),
    readMs: median(parse.map((p) => p.readMs)),
    parseOnlyMs: median(parse.map((p) => p.parseMs)),
    parseMs: median(parse.map((p) => p.totalMs)),
    parseRssKb: median(parse.map((p) => p.maxRssKb)),
    cliMs: median(cli.map((r) => r.wallMs)),
    cliRssKb: median(cli.map((r) => r.maxRssKb)),
  };
}

function verify(file) {
  const r = spawnSync(process.execPath, [CLI, 'postmortem', '--bundle', file, '--format', 'json', '--no-store'], { maxBuffer: 512 << 20 });
  if (r.status !== 0) childFailed('hindsight postmortem (verify)', { ...r, stderr: r.stderr.toString() });
  let report;
  try {
    report = JSON.parse(r.stdout.toString());
  } catch (err) {
    process.stderr.write(`bench: the CLI's output is not JSON: ${err.message}\n`);
    process.exit(1);
  }
  const t = report.trigger;
  console.log(`\nverify: report ${fmtMiB(r.stdout.length)} MiB JSON; keys: ${Object.keys(report).join(', ')}`);
  console.log(`verify: trigger ${t ? `${t.kind} ${t.repo} deployment ${t.deployment_id} sha ${String(t.sha).slice(0, 10)} confidence ${t.confidence}` : 'none'}`);
  if (Array.isArray(report.timeline)) console.log(`verify: ${report.timeline.length} timeline entries`);
}

// ---------------------------------------------------------------------------------------------
// Report

function printTable(bytes, m) {
  const fileMiB = bytes / 1048576;
  const cliNetMs = m.cliMs - m.startupMs;
  const ratioNet = cliNetMs / m.parseMs;
  const ratioWall = m.cliMs / m.parseMs;
  const cliRssMiB = m.cliRssKb / 1024;
  const rssX = cliRssMiB / fileMiB;
  const parseRssMiB = m.parseRssKb / 1024;
  const mark = (ok) => (ok ? 'PASS' : 'MISS');
  const rows = [
    ['bundle file size', `${fileMiB.toFixed(1)} MiB`, ''],
    ['node startup (bare `node -e ""`)', `${fmtMs(m.startupMs)} ms`, ''],
    ['JSON.parse(readFileSync(file)) in child', `${fmtMs(m.parseMs)} ms`, `read ${fmtMs(m.readMs)} + parse ${fmtMs(m.parseOnlyMs)}`],
    ['JSON.parse child peak RSS', `${parseRssMiB.toFixed(0)} MiB`, `${(parseRssMiB / fileMiB).toFixed(2)}× file`],
    ['post-mortem wall (incl. node startup)', `${fmtMs(m.cliMs)} ms`, ''],
    ['post-mortem wall − node startup', `${fmtMs(cliNetMs)} ms`, ''],
    ['ratio post-mortem / parse', `${ratioNet.toFixed(2)}×`, `(wall incl. startup: ${ratioWall.toFixed(2)}×)`],
    ['post-mortem peak RSS', `${cliRssMiB.toFixed(0)} MiB`, `${rssX.toFixed(2)}× file`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log('\n=== hindsight postmortem benchmark (medians) ===');
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log('\n  targets');
  console.log(`  ${'post-mortem ≤ 2× parse time'.padEnd(w0)}  ${`${ratioNet.toFixed(2)}×`.padStart(w1)}  ${mark(ratioNet <= 2)}   (net of startup; ${ratioWall <= 2 ? 'PASS' : 'MISS'} with startup)`);
  console.log(`  ${'peak RSS < 3× file size'.padEnd(w0)}  ${`${rssX.toFixed(2)}×`.padStart(w1)}  ${mark(rssX < 3)}`);
}

// ---------------------------------------------------------------------------------------------

function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (!fs.existsSync(CLI)) fail(`${path.relative(ROOT, CLI)} not found: run \`npm run build\` first (or use \`npm run bench\`)`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  const { file, bytes } = ensureBundle(opts);
  console.log(`bundle: ${path.relative(ROOT, file)} is ${fmtMiB(bytes)} MiB (${bytes} bytes)`);
  globalThis.gc?.();
  const m = measure(file, opts);
  printTable(bytes, m);
  if (opts.verify) verify(file);
}

main();
