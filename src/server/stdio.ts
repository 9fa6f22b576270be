// `hindsight serve`: the MCP server over stdio. stdout carries the protocol only; logs go to stderr.
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { IncidentStore, hindsightHome } from '../store/incidentStore.js';
import { createServer, DEFAULT_MAX_RESOURCE_BYTES } from './createServer.js';
import { LineTransport } from './lineTransport.js';
import { redactSecrets } from '../core/redact.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { InputError } from '../io/files.js';
import { environmentDeps } from './environmentDeps.js';
import { WorkerPool, workerCountFromEnvironment, type WorkRunner } from './workerPool.js';

/** Tool calls run on worker threads unless HINDSIGHT_WORKERS=0. */
function workRunner(bundleRoot: string | null | undefined): WorkRunner | undefined {
  const n = workerCountFromEnvironment(process.env);
  return n > 0 ? new WorkerPool(n, process.cwd(), bundleRoot) : undefined;
}

export function maxResourceBytesFromEnvironment(): number {
  const raw = process.env.HINDSIGHT_MAX_RESOURCE_BYTES?.trim();
  if (!raw) return DEFAULT_MAX_RESOURCE_BYTES;
  const n = Number(raw);
  if (Number.isInteger(n) && n > 0) return n;
  throw new InputError(`HINDSIGHT_MAX_RESOURCE_BYTES: not a positive integer: "${raw}"`);
}

/** What both transports serve: the store, the tools' dependencies and a factory of servers over them. */
function serverSetup(bundleRoot?: string | null) {
  // a client that went away may have closed stderr too: losing a log line is no reason to crash
  process.stderr.on('error', () => undefined);
  const maxResourceBytes = maxResourceBytesFromEnvironment();
  const store = IncidentStore.open(hindsightHome());
  const deps: ToolDeps = { store, writesEnabled: process.env.HINDSIGHT_WRITE === '1', cwd: process.cwd(), ...(bundleRoot !== undefined ? { bundleRoot } : {}), ...environmentDeps() };
  const runner = workRunner(bundleRoot);
  const factory = () => createServer(deps, { maxResourceBytes, ...(runner ? { runner } : {}) });
  const logError = (err: Error) => process.stderr.write(`hindsight: ${redactSecrets(err.message)}\n`);
  return { store, runner, factory, logError };
}

export async function runStdioServer(): Promise<void> {
  const { store, runner, factory, logError } = serverSetup();
  const transport = new LineTransport();
  let stopping = false;
  // serveStdio answers both the 2025 handshake (initialize) and MCP 2026-07-28 (server/discover,
  // per-request envelope), building one server per connection from this factory.
  const handle = serveStdio(factory, {
    transport,
    onerror: logError,
  });
  // Every way out (client gone, stdin closed, signal) is a normal shutdown: each store write is a
  // single statement or transaction, so whatever was not written yet is simply not there.
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await handle.close().catch(() => undefined);
    await runner?.close();
    store.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  void transport.closedPromise.then(shutdown);
  process.stderr.write(`hindsight MCP server ready (data: ${hindsightHome()})\n`);
}

/** `hindsight serve --http PORT`: the same tools over Streamable HTTP, one server built per request. */
export async function runHttpServer(portFlag: string | undefined): Promise<void> {
  const { httpConfigFrom, startHttpServer } = await import('./http.js');
  const config = httpConfigFrom(process.env, portFlag);
  // a shared server reads bundle files only inside HINDSIGHT_HTTP_BUNDLE_DIR, and none without it
  const { store, runner, factory, logError } = serverSetup(config.bundleDir);
  const running = await startHttpServer(config, factory, logError);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    await runner?.close();
    store.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const auth = config.auth.mode === 'none' ? 'NO AUTHENTICATION (loopback test mode)' : config.auth.mode === 'static' ? 'static bearer token' : `OAuth (${config.auth.mode}, issuer ${config.auth.issuer})`;
  process.stderr.write(`hindsight MCP server listening on ${running.url.href} (resource ${running.config.resource.href}; auth: ${auth}; data: ${hindsightHome()})\n`);
}
