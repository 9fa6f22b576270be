import { z } from 'zod';
import { redactSecrets } from '../core/redact.js';
import { defineTool } from './defineTool.js';

export const searchPastRcas = defineTool({
  name: 'search_past_rcas',
  title: 'Search past post-mortems',
  description:
    'Full-text search (BM25) over the post-mortems stored locally: root causes, five whys, action items and error signatures. Use it to find earlier incidents with the same failure.',
  toolset: 'history',
  readOnly: true,
  inputSchema: {
    query: z.string().min(1).describe('Free text, e.g. an error signature, a config key or a service name'),
    limit: z.number().int().min(1).max(20).default(5).describe('Maximum number of results (default 5)'),
    exclude_incident_id: z.string().optional().describe('Leave this incident out (e.g. the one being analysed)'),
  },
  outputSchema: {
    query: z.string(),
    hits: z.array(
      z.object({ id: z.string(), title: z.string(), service: z.string().nullable(), root_cause: z.string(), score: z.number(), snippet: z.string() }),
    ),
  },
  async handler(input, deps) {
    const hits = deps.store.searchReports(input.query, input.limit, input.exclude_incident_id).map((h) => ({
      id: h.id,
      title: h.title,
      service: h.service,
      root_cause: h.rootCause,
      score: h.score,
      snippet: h.snippet,
    }));
    const text = hits.length
      ? hits.map((h, i) => `${i + 1}. ${h.id} (${h.score.toFixed(2)}) ${h.title}: ${h.snippet}`).join('\n')
      : `No stored post-mortem matches "${input.query}".`;
    return { structured: { query: redactSecrets(input.query), hits }, text };
  },
});
