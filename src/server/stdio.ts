// `hindsight serve`: the MCP server over stdio. stdout carries the protocol only; logs go to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { IncidentStore, hindsightHome } from '../store/incidentStore.js';
import { createServer } from './createServer.js';
import { loadConfig, type HarvestConfig } from '../harvest/config.js';
import { redactSecrets } from '../core/redact.js';
import { harvestIncident } from '../harvest/harvest.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { ticketDeps } from '../tickets/tickets.js';

/** Live harvesting for get_incident_context, configured from the environment (and config file). */
function harvesterFromEnvironment(): ToolDeps['harvest'] {
  let config: HarvestConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    process.stderr.write(`hindsight: live harvesting disabled: ${redactSecrets((err as Error).message)}\n`);
    return undefined;
  }
  if (!config.credentials.pagerduty && !config.credentials.opsgenie) return undefined;
  return async (incidentId) => {
    const { bundle } = await harvestIncident(incidentId, config, { log: (m) => process.stderr.write(`hindsight: ${m}\n`) });
    return bundle;
  };
}

/** Real ticket filing for file_tickets (used only when writes are enabled). */
function ticketsFromEnvironment(): Pick<ToolDeps, 'ticketFiler' | 'ticketTarget'> {
  try {
    return ticketDeps(loadConfig(process.env), { log: (m) => process.stderr.write(`hindsight: ${m}\n`) });
  } catch {
    return {};
  }
}

export async function runStdioServer(): Promise<void> {
  const store = IncidentStore.open(hindsightHome());
  const server = createServer({
    store,
    writesEnabled: process.env.HINDSIGHT_WRITE === '1',
    cwd: process.cwd(),
    harvest: harvesterFromEnvironment(),
    ...ticketsFromEnvironment(),
  });
  const transport = new StdioServerTransport();
  const shutdown = async () => {
    await server.close().catch(() => undefined);
    store.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  transport.onclose = () => store.close();
  await server.connect(transport);
  process.stderr.write(`hindsight MCP server ready (data: ${hindsightHome()})\n`);
}
