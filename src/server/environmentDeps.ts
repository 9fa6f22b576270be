// The tool dependencies that come from the environment (vendor credentials, ticket targets): the
// same for the stdio and HTTP servers and for their worker threads.
import { loadConfig, type HarvestConfig } from '../harvest/config.js';
import { redactSecrets } from '../core/redact.js';
import { harvestIncident } from '../harvest/harvest.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { ticketDeps } from '../tickets/tickets.js';
import { ticketStatusReaderFor } from '../history/ticketStatus.js';

export function environmentDeps(): Pick<ToolDeps, 'harvest' | 'harvestUnavailable' | 'ticketFiler' | 'ticketTarget' | 'ticketStatus'> {
  return { ...harvesterFromEnvironment(), ...ticketsFromEnvironment() };
}

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

