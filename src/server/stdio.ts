// `hindsight serve`: the MCP server over stdio. stdout carries the protocol only; logs go to stderr.
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
function harvesterFromEnvironment(): Pick<ToolDeps, 'harvest' | 'harvestUnavailable'> {
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

function maxResourceBytesFromEnvironment(): number {
  const raw = process.env.HINDSIGHT_MAX_RESOURCE_BYTES?.trim();
  if (!raw) return DEFAULT_MAX_RESOURCE_BYTES;
  const n = Number(raw);
  if (Number.isInteger(n) && n > 0) return n;
  throw new InputError(`HINDSIGHT_MAX_RESOURCE_BYTES: not a positive integer: "${raw}"`);
}

/** Real ticket filing for file_tickets (used only when writes are enabled), and ticket states for "Seen before". */
function ticketsFromEnvironment(): Pick<ToolDeps, 'ticketFiler' | 'ticketTarget' | 'ticketStatus'> {
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
  const server = createServer(
    {
      store,
      writesEnabled: process.env.HINDSIGHT_WRITE === '1',
      cwd: process.cwd(),
      ...harvesterFromEnvironment(),
      ...ticketsFromEnvironment(),
    },
    { maxResourceBytes },
  );
  const transport = new LineTransport();
  let stopping = false;
  // Every way out (client gone, stdin closed, signal) is a normal shutdown: each store write is a
  // single statement or transaction, so whatever was not written yet is simply not there.
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await server.close().catch(() => undefined);
    store.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  transport.onclose = () => void shutdown();
  await server.connect(transport);
  process.stderr.write(`hindsight MCP server ready (data: ${hindsightHome()})\n`);
}
