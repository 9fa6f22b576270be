import { z } from 'zod';
import { redactSecrets, Redactor } from '../core/redact.js';
import { normalizeDate } from '../history/features.js';
import { searchConfiguredHistory, UnknownIncidentError } from '../history/service.js';
import { defineTool, ToolError } from './defineTool.js';

export const searchPastRcas = defineTool({
  name: 'search_past_rcas',
  title: 'Search past post-mortems',
  description:
    'Finds past incidents like this one: imported post-mortems and the ones stored here, ranked by BM25 fused with structured similarity (same service or dependency, failure mode, error messages, files/config keys/hosts, trigger kind). Each hit says why_similar and lists its action items not known to be done. Pass a free-text query (an error message, a config key), an incident_id to find incidents like a loaded one, or both.',
  toolset: 'history',
  readOnly: true,
  inputSchema: {
    query: z.string().min(1).optional().describe('Free text, e.g. an error message, a config key or a service name'),
    incident_id: z.string().min(1).optional().describe('Find past incidents like this stored or loaded incident (it is left out of the results)'),
    service: z.string().optional().describe('Only past incidents of this service'),
    from: z.string().optional().describe('Only incidents on or after this date (ISO)'),
    to: z.string().optional().describe('Only incidents on or before this date (ISO)'),
    severity: z.string().optional().describe('Only this severity (SEV1..SEV5, P1.., critical/major/minor)'),
    limit: z.number().int().min(1).max(20).default(5).describe('Maximum number of results (default 5)'),
    exclude_incident_id: z.string().optional().describe('Leave this incident out (e.g. the one being analysed)'),
  },
  outputSchema: {
    query: z.string(),
    hits: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        service: z.string().nullable(),
        date: z.string().nullable(),
        severity: z.string().nullable(),
        root_cause: z.string(),
        score: z.number(),
        why_similar: z.array(z.string()),
        snippet: z.string(),
        open_action_items: z.array(z.object({ title: z.string(), status: z.enum(['open', 'done']).nullable(), ticket: z.string().nullable(), url: z.string().nullable() })),
        uri: z.string(),
      }),
    ),
  },
  async handler(input, deps) {
    if (!input.query && !input.incident_id) throw new ToolError('pass a query, an incident_id, or both');
    const date = (name: string, value: string | undefined) => {
      if (value === undefined) return undefined;
      const d = normalizeDate(value);
      if (!d) throw new ToolError(`${name}: not a date: "${value}"`);
      return d;
    };
    let results;
    try {
      results = await searchConfiguredHistory(deps.store, {
        query: input.query,
        incidentId: input.incident_id,
        filter: { service: input.service, from: date('from', input.from), to: date('to', input.to), severity: input.severity },
        limit: input.limit,
        excludeId: input.exclude_incident_id,
      });
    } catch (err) {
      if (err instanceof UnknownIncidentError) throw new ToolError(err.message);
      throw err;
    }
    // imported post-mortems are other people's text: secrets never leave the process
    const redactor = new Redactor();
    const hits = redactor.redactDeep(
      results.map((r) => {
        const p = r.incident;
        return {
          id: p.id,
          title: p.title,
          service: p.services[0] ?? null,
          date: p.date,
          severity: p.severity,
          root_cause: p.root_cause.slice(0, 1000),
          score: r.score,
          why_similar: r.why_similar,
          snippet: (p.root_cause || p.summary).replace(/\s+/g, ' ').slice(0, 200),
          open_action_items: p.action_items.filter((a) => a.status !== 'done').map((a) => ({ title: a.title, status: a.status, ticket: a.ticket?.key ?? null, url: a.ticket?.url ?? null })),
          uri: `hindsight://history/${encodeURIComponent(p.id)}/postmortem.md`,
        };
      }),
    );
    const asked = input.query ?? `incidents like ${input.incident_id}`;
    const text = hits.length
      ? hits.map((h, i) => `${i + 1}. ${h.id} (${h.score.toFixed(2)}) ${h.title}\n   why similar: ${h.why_similar.join('; ') || 'shared words'}`).join('\n')
      : `No past incident matches ${input.query ? `"${redactSecrets(input.query)}"` : `incident ${input.incident_id}`}.`;
    return { structured: { query: redactSecrets(asked), hits }, text };
  },
});
