import { z } from 'zod';
import { timelineOf } from '../core/analyze.js';
import { parseIsoMs } from '../core/time.js';
import { timelineMarkdown } from '../core/timeline.js';
import { defineTool, ToolError } from './defineTool.js';
import { analysisOf } from './incidentAnalysis.js';

const SOURCES = ['pagerduty', 'opsgenie', 'slack', 'github', 'datadog', 'newrelic', 'logs'] as const;
const KINDS = ['deploy', 'commit', 'alert', 'page', 'ack', 'resolve', 'metric_spike', 'metric_recovery', 'log', 'chat', 'config_change', 'event'] as const;

const entrySchema = z.object({
  at: z.string(),
  source: z.enum(SOURCES),
  kind: z.enum(KINDS),
  summary: z.string(),
  relevance: z.enum(['high', 'medium', 'low']),
  ref: z.string().optional(),
  count: z.number().optional(),
});

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseIsoMs(value);
  if (ms === null) throw new ToolError(`${name}: not an ISO-8601 time: "${value}"`);
  return ms;
}

export const buildTimeline = defineTool({
  name: 'build_timeline',
  title: 'Build incident timeline',
  description:
    'The incident\'s timeline: every source merged into typed events (deploys, pages, acks, metric onsets and recoveries, first occurrence of each error signature, decisive chat), UTC with millisecond precision, people named by role and secrets redacted.',
  toolset: 'analysis',
  readOnly: true,
  inputSchema: {
    incident_id: z.string().describe('Incident id from get_incident_context'),
    min_relevance: z.enum(['low', 'medium', 'high']).default('medium').describe('Lowest relevance to include (default medium)'),
    from: z.string().optional().describe('Only events at or after this ISO-8601 time'),
    to: z.string().optional().describe('Only events at or before this ISO-8601 time'),
    sources: z.array(z.enum(SOURCES)).optional().describe('Only events from these sources'),
    limit: z.number().int().min(1).max(2000).default(200).describe('Maximum number of events (default 200)'),
  },
  outputSchema: {
    incident_id: z.string(),
    total_events: z.number(),
    returned: z.number(),
    entries: z.array(entrySchema),
    markdown: z.string(),
  },
  async handler(input, deps) {
    const analysis = analysisOf(input.incident_id, deps);
    const entries = timelineOf(analysis, {
      minRelevance: input.min_relevance,
      from: time('from', input.from),
      to: time('to', input.to),
      sources: input.sources,
      limit: input.limit,
    });
    const markdown = timelineMarkdown(entries);
    return {
      structured: { incident_id: input.incident_id, total_events: analysis.events.length, returned: entries.length, entries, markdown },
      text: `${entries.length} of ${analysis.events.length} events (relevance ${input.min_relevance}+).\n\n${markdown}`,
    };
  },
});
