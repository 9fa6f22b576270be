#!/usr/bin/env node
// How long the harvesters take to give up on a vendor that is down, hangs, or is rate limited far
// into the future: the numbers the harvest tests assert as behaviour (attempt counts, errors) but
// must not assert as wall-clock bounds. Prints a table; exits non-zero only when a scenario does
// not end in the expected error.
//
//   npm run bench                          (after the post-mortem benchmark)
//   node scripts/bench-harvest.mjs [--runs N]
//
// Runs the built harvesters (dist/) against minimal loopback stand-ins on 127.0.0.1: a Slack API
// answering 503 to everything, a Slack API that never answers, a GitHub API answering 403 with
// x-ratelimit-remaining 0 and a reset an hour away, and a Datadog API that never answers.
// Plain Node ESM, node:* only (plus the project's own dist).
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);

function parseRuns(argv) {
  const i = argv.indexOf('--runs');
  if (i === -1) return 3;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench-harvest: --runs needs a positive integer, got "${argv[i + 1]}"`);
    process.exit(2);
  }
  return n;
}

/** A loopback server answering every request with `answer(req, res)`; `null` from it means never answer. */
async function standIn(answer) {
  const held = new Set();
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      if (answer(req, res) === null) held.add(res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

function context(http) {
  const now = Date.now();
  return {
    incident: {
      id: 'PBENCH1',
      source: 'pagerduty',
      number: 1,
      title: 'bench incident',
      service: 'bench-api',
      severity: 'SEV-2',
      urgency: 'high',
      status: 'resolved',
      createdAt: new Date(now - 3600_000).toISOString(),
      acknowledgedAt: null,
      resolvedAt: new Date(now - 600_000).toISOString(),
      url: null,
      raw: {},
    },
    window: { fromMs: now - 7 * 3600_000, toMs: now },
    deployWindow: { fromMs: now - 72 * 3600_000, toMs: now },
    caps: { ...DEFAULT_CAPS },
    http,
    service: null,
    log: () => {},
  };
}

const { DEFAULT_CAPS } = await dist('harvest/config.js');
const { harvestSlack } = await dist('harvest/sources/slack.js');
const { harvestGithub } = await dist('harvest/sources/github.js');
const { harvestDatadog } = await dist('harvest/sources/datadog.js');

const POLICY = { timeoutMs: 2000, retries: 2, baseDelayMs: 20, maxDelayMs: 100 };

const scenarios = [
  {
    name: 'Slack down (503 to every call)',
    policy: POLICY,
    server: () => standIn((req, res) => json(res, 503, { ok: false, error: 'service_unavailable' })),
    run: (s, ctx) => harvestSlack({ token: 'xoxb-bench', apiUrl: `${s.url}/api` }, ctx, { channel: 'C0BENCH0001' }),
  },
  {
    name: 'Slack hanging (timeout 300 ms)',
    policy: { ...POLICY, timeoutMs: 300 },
    server: () => standIn(() => null),
    run: (s, ctx) => harvestSlack({ token: 'xoxb-bench', apiUrl: `${s.url}/api` }, ctx, { channel: 'C0BENCH0001' }),
  },
  {
    name: 'GitHub rate limit resetting in 1 h',
    policy: POLICY,
    server: () =>
      standIn((req, res) =>
        json(res, 403, { message: 'API rate limit exceeded for user ID 1.' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600), 'x-ratelimit-used': '5000' }),
      ),
    run: (s, ctx) => harvestGithub({ token: 'ghp_bench', apiUrl: s.url }, ctx, { repos: ['bench/api'] }),
  },
  {
    name: 'Datadog hanging (timeout 300 ms, 1 retry)',
    policy: { ...POLICY, timeoutMs: 300, retries: 1 },
    server: () => standIn(() => null),
    run: (s, ctx) => harvestDatadog({ apiKey: 'dd-bench', appKey: 'dd-bench-app', site: 'datadoghq.com', apiUrl: s.url }, ctx, { queries: ['avg:bench.latency{*}'], logQuery: null, snapshots: 0 }),
  },
];

const runs = parseRuns(process.argv.slice(2));
const rows = [];
let failed = false;
for (const sc of scenarios) {
  const times = [];
  let requests = 0;
  let outcome = '';
  for (let r = 0; r < runs; r++) {
    const s = await sc.server();
    try {
      const started = performance.now();
      const out = await sc.run(s, context(sc.policy));
      times.push(performance.now() - started);
      requests = s.requests();
      const err = out.errors[0];
      outcome = err ? `${err.retryable ? 'retryable' : 'final'} error` : 'no error';
      if (!err) failed = true;
    } finally {
      await s.close();
    }
  }
  times.sort((a, b) => a - b);
  rows.push([sc.name, `${Math.round(times[Math.floor(times.length / 2)])} ms`, `${Math.round(times[times.length - 1])} ms`, String(requests), outcome]);
}

const head = ['scenario', 'median', 'max', 'requests', 'outcome'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`Harvest give-up times (${runs} runs each; policy retries ${POLICY.retries}, backoff ${POLICY.baseDelayMs}-${POLICY.maxDelayMs} ms)`);
console.log(line(head));
for (const r of rows) console.log(line(r));
if (failed) {
  console.error('bench-harvest: a scenario ended without the expected error');
  process.exit(1);
}
