import { createHash } from 'node:crypto';
import { z } from 'zod';
import { buildReport } from '../core/analyze.js';
import type { ActionItem, Report } from '../core/report.js';
import { defineTool } from './defineTool.js';
import { analysisOf } from './incidentAnalysis.js';

export const MAX_TICKETS_PER_INCIDENT = 5;

/** Stable per incident and action item, so a rerun finds the ticket it already filed. */
export function ticketMarker(incidentId: string, item: ActionItem): string {
  const hash = createHash('sha256').update(`${item.type}\n${item.title.toLowerCase()}`).digest('hex').slice(0, 12);
  return `hindsight:${incidentId}:${hash}`;
}

function ticketBody(report: Report, item: ActionItem, marker: string): string {
  const inc = report.incident;
  return [
    `**Why:** ${item.rationale}`,
    '',
    `**Incident:** ${inc.id} — ${inc.title}${inc.url ? ` (${inc.url})` : ''}`,
    `**Root cause (draft):** ${report.root_cause}`,
    `**Type:** ${item.type} · **Priority:** ${item.priority}`,
    '',
    `<!-- ${marker} -->`,
  ].join('\n');
}

export const fileTickets = defineTool({
  name: 'file_tickets',
  title: 'File action-item tickets',
  description:
    `Turns the post-mortem's action items (at most ${MAX_TICKETS_PER_INCIDENT}) into ticket drafts for GitHub Issues or Jira, each with a stable marker so reruns never duplicate. ` +
    'Dry-run: returns the drafts and files nothing unless writes are enabled on the server.',
  toolset: 'tickets',
  readOnly: true,
  inputSchema: {
    incident_id: z.string().describe('Incident id from get_incident_context'),
    target: z.enum(['github', 'jira']).default('github').describe('Ticket system the drafts are shaped for'),
    project: z.string().optional().describe('GitHub owner/repo or Jira project key for the tickets'),
  },
  outputSchema: {
    incident_id: z.string(),
    dry_run: z.boolean(),
    target: z.enum(['github', 'jira']),
    project: z.string().nullable(),
    tickets: z.array(
      z.object({ title: z.string(), body: z.string(), labels: z.array(z.string()), priority: z.string(), type: z.string(), marker: z.string() }),
    ),
    note: z.string(),
  },
  async handler(input, deps) {
    const stored = deps.store.getReport(input.incident_id);
    const report = stored?.report ?? buildReport(analysisOf(input.incident_id, deps));
    const tickets = report.action_items.slice(0, MAX_TICKETS_PER_INCIDENT).map((item) => {
      const marker = ticketMarker(report.incident.id, item);
      return { title: item.title, body: ticketBody(report, item, marker), labels: item.labels, priority: item.priority, type: item.type, marker };
    });
    const note = deps.writesEnabled
      ? 'Writes are enabled but no ticket system is configured in this version: nothing was filed.'
      : 'Dry run: nothing was filed. Enable writes (HINDSIGHT_WRITE=1) and configure a ticket system to file them.';
    return {
      structured: { incident_id: input.incident_id, dry_run: true, target: input.target, project: input.project ?? null, tickets, note },
      text: `${tickets.length} ticket drafts for ${input.target}${input.project ? ` (${input.project})` : ''}:\n${tickets.map((t) => `- [${t.priority}/${t.type}] ${t.title}`).join('\n')}\n${note}`,
    };
  },
});
