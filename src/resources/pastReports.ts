// Past post-mortems from the history (imported or stored here) as MCP resources:
// hindsight://history/{incident_id}/postmortem.md, secrets redacted.
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import { withholdText } from '../core/instructions.js';
import { Redactor } from '../core/redact.js';
import { historyOf } from '../history/backend.js';
import type { PastIncident } from '../history/types.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { resourceNotFound } from './index.js';

export const PAST_REPORT_TEMPLATE = 'hindsight://history/{incident_id}/postmortem.md';

export function pastIncidentMarkdown(p: PastIncident): string {
  const lines = [`# ${p.title}`, ''];
  const meta: Array<[string, string | null]> = [
    ['Incident', p.id], ['Date', p.date], ['Services', p.services.join(', ') || null], ['Severity', p.severity?.toUpperCase() ?? null],
    ['Trigger kind', p.trigger_kind?.replace('_', ' ') ?? null], ['Failure modes', p.failure_modes.join(', ') || null], ['Source', p.url],
  ];
  lines.push('| | |', '| --- | --- |', ...meta.filter(([, v]) => v).map(([k, v]) => `| ${k} | ${String(v).replace(/\|/g, '\\|')} |`), '');
  if (p.summary) lines.push('## Summary', '', p.summary, '');
  if (p.root_cause) lines.push('## Root cause', '', p.root_cause, '');
  if (p.error_signatures.length) lines.push('## Error messages', '', ...p.error_signatures.map((s) => `- \`${s.replace(/`/g, "'")}\``), '');
  const names = [...p.files, ...p.config_keys, ...p.hosts];
  if (names.length) lines.push('## Files, config keys, hosts', '', names.map((n) => `\`${n}\``).join(', '), '');
  if (p.action_items.length) {
    lines.push('## Action items', '');
    for (const a of p.action_items) {
      const ticket = a.ticket ? ` (${a.ticket.url ? `[${a.ticket.key}](${a.ticket.url})` : a.ticket.key})` : '';
      lines.push(`- [${a.status === 'done' ? 'x' : ' '}] ${a.title}${ticket}${a.status === null ? ' — status unknown' : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The past incident as Markdown, secrets redacted; null when the history does not hold it. */
export function readPastReport(incidentId: string, deps: ToolDeps): string | null {
  const past = deps.store.history.get(incidentId);
  return past ? new Redactor().redact(withholdText(pastIncidentMarkdown(past))) : null;
}

/** readPastReport from the history configured for the store (Postgres, Pinecone's local copy, or SQLite). */
export async function readConfiguredPastReport(incidentId: string, deps: ToolDeps): Promise<string | null> {
  const past = (await historyOf(deps.store).get(incidentId)) ?? deps.store.history.get(incidentId);
  return past ? new Redactor().redact(withholdText(pastIncidentMarkdown(past))) : null;
}

export function registerPastReports(server: McpServer, deps: ToolDeps): void {
  const template = new ResourceTemplate(PAST_REPORT_TEMPLATE, {
    list: async () => ({
      resources: (await historyOf(deps.store).list(50)).map((p) => ({
        uri: `hindsight://history/${encodeURIComponent(p.id)}/postmortem.md`,
        name: `${p.id} ${p.title}`.slice(0, 120),
        mimeType: 'text/markdown',
      })),
    }),
    complete: { incident_id: async (value) => (await historyOf(deps.store).list(200)).map((p) => p.id).filter((id) => id.startsWith(value)) },
  });
  server.registerResource(
    'past-postmortem',
    template,
    { title: 'Past post-mortem (Markdown)', description: 'A past incident from the history (imported or stored here): root cause, error messages, action items and their status', mimeType: 'text/markdown' },
    async (uri, variables) => {
      const raw = variables.incident_id;
      const id = decodeURIComponent(Array.isArray(raw) ? raw[0]! : raw!);
      const text = await readConfiguredPastReport(id, deps);
      if (text === null) throw resourceNotFound(uri.href, `no past incident "${id}"`);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text }] };
    },
  );
}
