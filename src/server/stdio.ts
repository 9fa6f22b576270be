// `hindsight serve`: the MCP server over stdio. stdout carries the protocol only; logs go to stderr.
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { IncidentStore, hindsightHome } from '../store/incidentStore.js';
import { createServer, DEFAULT_MAX_RESOURCE_BYTES } from './createServer.js';
import { LineTransport } from './lineTransport.js';
import { loadConfig, type HarvestConfig } from '../harvest/config.js';
import { redactSecrets } from '../core/redact.js';
import { harvestIncident } from '../harvest/harvest.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { ticketDeps } from '../tickets/tickets.js';
import { ticketStatusReaderFor } from '../history/ticketStatus.js';
import { InputError } from '../io/files.js';

/**
 * Live harvesting for get_incident_context, configured from the environment (and config file);
 * when it is off, why (for the tool's error message).
 */
export function harvesterFromEnvironment(): Pick<ToolDeps, 'harvest' | 'harvestUnavailable'> {
  let config: HarvestConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    const why = `the harvest configuration is invalid: ${redactSecrets((err as Error).message)}`;
    process.stderr.write(`hindsight: live harvesting disabled: ${why}\n`);
    return { harvestUnavailable: why };
  }
  if (!config.credentials.pagerduty && !config.credentials.opsgenie) {
    return { harvestUnavailable: 'no incident source credentials are set: PAGERDUTY_TOKEN or OPSGENIE_API_KEY is missing in the server\'s environment' };
  }
  return {
    harvest: async (incidentId) => {
      const { bundle } = await harvestIncident(incidentId, config, { log: (m) => process.stderr.write(`hindsight: ${m}\n`) });
      return bundle;
    },
  };
}

export function maxResourceBytesFromEnvironment(): number {
  const raw = process.env.HINDSIGHT_MAX_RESOURCE_BYTES?.trim();
  if (!raw) return DEFAULT_MAX_RESOURCE_BYTES;
  const n = Number(raw);
  if (Number.isInteger(n) && n > 0) return n;
  throw new InputError(`HINDSIGHT_MAX_RESOURCE_BYTES: not a positive integer: "${raw}"`);
}

/** Real ticket filing for file_tickets (used only when writes are enabled), and ticket states for "Seen before". */
export function ticketsFromEnvironment(): Pick<ToolDeps, 'ticketFiler' | 'ticketTarget' | 'ticketStatus'> {
  try {
    const config = loadConfig(process.env);
    const ticketStatus = ticketStatusReaderFor({ github: config.credentials.github, jira: config.autonomous.jira, timeoutMs: config.http.timeoutMs });
    return { ...ticketDeps(config, { log: (m) => process.stderr.write(`hindsight: ${m}\n`) }), ...(ticketStatus ? { ticketStatus } : {}) };
  } catch {
    return {};
  }
}

export async function runStdioServer(): Promise<void> {
  // a client that went away may have closed stderr too: losing a log line is no reason to crash
  process.stderr.on('error', () => undefined);
  const maxResourceBytes = maxResourceBytesFromEnvironment();
  const store = IncidentStore.open(hindsightHome());
  const deps: ToolDeps = {
    store,
    writesEnabled: process.env.HINDSIGHT_WRITE === '1',
    cwd: process.cwd(),
    ...harvesterFromEnvironment(),
    ...ticketsFromEnvironment(),
  };
  const transport = new LineTransport();
  let stopping = false;
  // serveStdio answers both the 2025 handshake (initialize) and MCP 2026-07-28 (server/discover,
  // per-request envelope), building one server per connection from this factory.
  const handle = serveStdio(() => createServer(deps, { maxResourceBytes }), {
    transport,
    onerror: (err) => process.stderr.write(`hindsight: ${redactSecrets(err.message)}\n`),
  });
  // Every way out (client gone, stdin closed, signal) is a normal shutdown: each store write is a
  // single statement or transaction, so whatever was not written yet is simply not there.
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await handle.close().catch(() => undefined);
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
  process.stderr.on('error', () => undefined);
  const { httpConfigFrom, startHttpServer } = await import('./http.js');
  const config = httpConfigFrom(process.env, portFlag);
  const maxResourceBytes = maxResourceBytesFromEnvironment();
  const store = IncidentStore.open(hindsightHome());
  const deps: ToolDeps = {
    store,
    writesEnabled: process.env.HINDSIGHT_WRITE === '1',
    cwd: process.cwd(),
    ...harvesterFromEnvironment(),
    ...ticketsFromEnvironment(),
  };
  const running = await startHttpServer(config, () => createServer(deps, { maxResourceBytes }), (err) =>
    process.stderr.write(`hindsight: ${redactSecrets(err.message)}\n`),
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    store.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const auth = config.auth.mode === 'none' ? 'NO AUTHENTICATION (loopback test mode)' : config.auth.mode === 'static' ? 'static bearer token' : `OAuth (${config.auth.mode}, issuer ${config.auth.issuer})`;
  process.stderr.write(`hindsight MCP server listening on ${running.url.href} (resource ${running.config.resource.href}; auth: ${auth}; data: ${hindsightHome()})\n`);
}
