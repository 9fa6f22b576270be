import { z } from 'zod';
import { buildReport } from '../core/analyze.js';
import { renderMarkdown } from '../core/markdown.js';
import { historyReportOptions } from '../history/service.js';
import { defineTool } from './defineTool.js';
import { analysisOf } from './incidentAnalysis.js';

export const draftPostmortem = defineTool({
  name: 'draft_postmortem',
  title: 'Draft the post-mortem',
  description:
    'The whole post-mortem (report v1): summary, impact, timeline, metric change points, trigger or abstention with ranked candidates, blameless root cause, five whys with evidence, and 3-5 prioritised action items. Stores it for search_past_rcas and as a resource.',
  toolset: 'analysis',
  readOnly: false,
  inputSchema: {
    incident_id: z.string().describe('Incident id from get_incident_context'),
    format: z.enum(['md', 'json']).default('md').describe('Text content as Markdown (default) or JSON; the structured result is always the report (the Markdown is sent once, as text, or read from the report.md resource)'),
  },
  outputSchema: {
    report: z.looseObject({ report_version: z.literal(1), incident: z.looseObject({ id: z.string() }), root_cause: z.string() }),
  },
  async handler(input, deps) {
    const analysis = analysisOf(input.incident_id, deps);
    const base = buildReport(analysis);
    // past incidents like this one, and what they left open ("Seen before"), through the report's redaction
    const history = await historyReportOptions(deps.store, base, deps.ticketStatus);
    const report = history.similar.length || history.seenBefore.length ? buildReport(analysis, history) : base;
    const markdown = renderMarkdown(report);
    deps.store.saveReport(report, markdown);
    return {
      structured: { report: report as never },
      text: input.format === 'json' ? JSON.stringify(report, null, 2) : markdown,
    };
  },
});
