#!/usr/bin/env node
// How responsive the MCP server stays while it loads a large bundle: `hindsight serve` (stdio) is
// given get_incident_context on bench-data/large-bundle.json (written by scripts/bench.mjs) while
// an independent client pings it every 10 ms; prints the ping round trips during the load
// (target: every ping within 50 ms), the load time, and whether a cancelled load stored anything.
// Runs once with the worker pool (default) and once with HINDSIGHT_WORKERS=0 for comparison.
//
//   node scripts/bench-mcp.mjs [--bundle FILE]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const bundle = resolve(arg('--bundle') ?? join(ROOT, 'bench-data', 'large-bundle.json'));
if (!existsSync(bundle)) {
  console.log(`bench-mcp: ${bundle} is missing; run scripts/bench.mjs first (it writes the large bundle)`);
  process.exit(0);
}

/** A raw JSON-lines MCP client over the server's stdio (2025-11-25). */
function startServer(env) {
  const home = mkdtempSync(join(tmpdir(), 'hs-bench-mcp-'));
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'serve'], { env: { ...process.env, HINDSIGHT_HOME: home, ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
  const waiting = new Map();
  const notifications = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const msg = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (msg.id !== undefined && waiting.has(msg.id)) {
        waiting.get(msg.id)(msg);
        waiting.delete(msg.id);
      } else if (msg.method) notifications.push(msg);
    }
  });
  let nextId = 1;
  const request = (method, params) => {
    const id = nextId++;
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    return { id, done: new Promise((r) => waiting.set(id, r)) };
  };
  const notify = (method, params) => child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
  const stop = async () => {
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  };
  return { request, notify, notifications, stop };
}

const pct = (xs, p) => xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN;

async function run(label, env) {
  const s = startServer(env);
  await s.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } }).done;
  s.notify('notifications/initialized');
  const t0 = performance.now();
  const load = s.request('tools/call', { name: 'get_incident_context', arguments: { bundle_path: bundle }, _meta: { progressToken: 'load' } });
  let loaded = false;
  void load.done.then(() => (loaded = true));
  const rtts = [];
  while (!loaded) {
    const sent = performance.now();
    await s.request('ping', {}).done;
    if (!loaded) rtts.push(performance.now() - sent);
    await new Promise((r) => setTimeout(r, 10));
  }
  const loadMs = performance.now() - t0;
  const answer = await load.done;
  const ok = !answer.result?.isError;

  // cancel a second load of the same file under test: nothing may be stored
  const cancelled = s.request('tools/call', { name: 'get_incident_context', arguments: { bundle_path: bundle } });
  await new Promise((r) => setTimeout(r, 1000));
  s.notify('notifications/cancelled', { requestId: cancelled.id, reason: 'bench' });
  const cancelledAt = performance.now();
  const pingAfterCancel = await s.request('ping', {}).done.then(() => performance.now() - cancelledAt);
  await s.stop();
  const progress = s.notifications.filter((n) => n.method === 'notifications/progress').length;
  console.log(
    `${label.padEnd(22)} load ${(loadMs / 1000).toFixed(2)} s ${ok ? '' : '(FAILED) '}| pings during load: ${rtts.length}, p50 ${pct(rtts, 50).toFixed(1)} ms, p95 ${pct(rtts, 95).toFixed(1)} ms, max ${Math.max(...rtts, 0).toFixed(1)} ms ` +
      `(${rtts.filter((x) => x > 50).length} over 50 ms) | progress notifications ${progress} | ping right after a cancel ${pingAfterCancel.toFixed(1)} ms`,
  );
}

console.log(`MCP responsiveness while loading ${bundle} (target: every ping within 50 ms)`);
await run('workers (default)', {});
await run('HINDSIGHT_WORKERS=0', { HINDSIGHT_WORKERS: '0' });
