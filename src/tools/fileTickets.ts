import { z } from 'zod';
import { buildReport } from '../core/analyze.js';
import { redactSecrets } from '../core/redact.js';
import {
  MAX_TICKETS_PER_INCIDENT,
  TicketFilingError,
  draftTickets,
  targetProject,
  type FiledTicket,
  type TicketDraft,
  type TicketTarget,
} from '../tickets/tickets.js';
import { ToolError, defineTool } from './defineTool.js';
import { analysisOf } from './incidentAnalysis.js';

// one implementation of markers and bodies, in src/tickets/tickets.ts
export { MAX_TICKETS_PER_INCIDENT, ticketMarker } from '../tickets/tickets.js';

function confirmMessage(incidentId: string, target: TicketTarget | null, drafts: TicketDraft[]): string {
  const where = target ? `${target.system === 'github' ? 'GitHub' : 'Jira'} ${targetProject(target)}` : 'the configured ticket system';
  return [
    `File ${drafts.length} action-item ticket${drafts.length === 1 ? '' : 's'} for incident ${incidentId} in ${where}?`,
    ...drafts.map((d) => `- [${d.priority}/${d.type}] ${d.title}`),
    'Tickets filed earlier for this incident are found again, not duplicated.',
  ].join('\n');
}

const statusWord: Record<FiledTicket['status'], string> = { created: 'created', existing: 'already filed', linked: 'linked to an open ticket' };

export const fileTickets = defineTool({
  name: 'file_tickets',
  title: 'File action-item tickets',
  description:
    `Turns the post-mortem's action items (at most ${MAX_TICKETS_PER_INCIDENT}, highest priority first) into tickets for GitHub Issues or Jira, each with a stable marker so reruns never duplicate. ` +
    'Dry-run by default: returns the drafts and files nothing. When the server enables writes and a ticket system is configured, files them in the configured repository or project ' +
    '(after asking the user to confirm, when the client supports it): existing tickets are found again, and a similar open ticket from a past incident gets a linking comment instead of a duplicate.',
  toolset: 'tickets',
  readOnly: true,
  // files tickets in an external system when the server enables writes
  destructive: (deps) => deps.writesEnabled,
  inputSchema: {
    incident_id: z.string().describe('Incident id from get_incident_context'),
    target: z.enum(['github', 'jira']).default('github').describe('Ticket system the drafts are shaped for (filing uses the server configuration)'),
    project: z.string().optional().describe('GitHub owner/repo or Jira project key for the tickets; when filing, must match the configured one'),
  },
  outputSchema: {
    incident_id: z.string(),
    dry_run: z.boolean(),
    target: z.enum(['github', 'jira']),
    project: z.string().nullable(),
    tickets: z.array(
      z.object({ title: z.string(), body: z.string(), labels: z.array(z.string()), priority: z.string(), type: z.string(), marker: z.string() }),
    ),
    filed: z.array(z.object({ marker: z.string(), key: z.string(), url: z.string(), status: z.enum(['created', 'existing', 'linked']) })),
    note: z.string(),
  },
  async handler(input, deps, ctx) {
    const stored = deps.store.getReport(input.incident_id);
    const report = stored?.report ?? buildReport(analysisOf(input.incident_id, deps));
    const tickets = draftTickets(report);
    const draftList = tickets.map((t) => `- [${t.priority}/${t.type}] ${t.title}`).join('\n');

    const dryRun = (note: string, target: 'github' | 'jira' = input.target, project: string | null = input.project ?? null) => ({
      structured: { incident_id: input.incident_id, dry_run: true, target, project, tickets, filed: [] as FiledTicket[], note },
      text: `${tickets.length} ticket drafts for ${target}${project ? ` (${project})` : ''}:\n${draftList}\n${note}`,
    });

    if (!deps.writesEnabled) return dryRun('Dry run: nothing was filed. Enable writes (HINDSIGHT_WRITE=1) and configure a ticket system to file them.');
    if (!deps.ticketFiler) return dryRun('Writes are enabled but no ticket system is configured (tickets.github_repo or tickets.jira_project, with GITHUB_TOKEN or JIRA_* credentials): nothing was filed.');
    const target = deps.ticketTarget ? deps.ticketTarget(report) : undefined;
    if (target === null) {
      return dryRun(`Writes are enabled but no ticket target with credentials is configured for service "${report.incident.service ?? '(none)'}": nothing was filed.`);
    }
    if (target && input.project && input.project.toLowerCase() !== targetProject(target).toLowerCase()) {
      return dryRun(`The configured target for this incident is ${target.system} ${targetProject(target)}, not ${input.project}: nothing was filed. Call again without project (or with the configured one) to file.`);
    }
    if (tickets.length === 0) return dryRun('The report has no action items: nothing to file.');

    if (ctx?.confirm && !(await ctx.confirm(confirmMessage(report.incident.id, target ?? null, tickets)))) {
      return dryRun('Filing was declined: nothing was filed.');
    }

    let filed: FiledTicket[];
    try {
      filed = await deps.ticketFiler(report, tickets);
    } catch (err) {
      const done = err instanceof TicketFilingError ? err.filed : [];
      const message = redactSecrets(err instanceof Error ? err.message : String(err));
      throw new ToolError(
        `filing tickets failed: ${message}${done.length ? `. Filed before the failure: ${done.map((f) => f.key).join(', ')}` : ''}. Run file_tickets again to finish: tickets already filed are found by their markers, not duplicated.`,
      );
    }
    const system = target?.system ?? input.target;
    const project = target ? targetProject(target) : input.project ?? null;
    const counts = (['created', 'existing', 'linked'] as const).map((s) => `${filed.filter((f) => f.status === s).length} ${statusWord[s]}`).join(', ');
    const note = `Filed for real in ${system}${project ? ` ${project}` : ''}: ${counts}.`;
    const byMarker = new Map(filed.map((f) => [f.marker, f]));
    return {
      structured: { incident_id: input.incident_id, dry_run: false, target: system, project, tickets, filed, note },
      text: `${note}\n${tickets
        .map((t) => {
          const f = byMarker.get(t.marker);
          return `- [${t.priority}/${t.type}] ${t.title}${f ? ` -> ${f.key} (${statusWord[f.status]}) ${f.url}` : ''}`;
        })
        .join('\n')}`,
    };
  },
});
