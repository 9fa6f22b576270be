import { z } from 'zod';
import { buildReport } from '../core/analyze.js';
import { renderMarkdown } from '../core/markdown.js';
import { historyReportOptions } from '../history/service.js';
import type { Report } from '../core/report.js';
import { defineTool, type ToolLink } from './defineTool.js';
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
    detail: z
      .enum(['summary', 'full'])
      .default('summary')
      .describe('summary (default): summary, impact, trigger, root cause, five whys and action items, with links to the full report resources; full: every section (timeline, change points, log signatures, every candidate)'),
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
    const links = reportLinks(report.incident.id);
    if (input.detail === 'full') {
      return { structured: { report: report as never }, text: input.format === 'json' ? JSON.stringify(report, null, 2) : markdown, links };
    }
    const brief = briefReport(report, links);
    return {
      structured: { report: brief as never },
      text: input.format === 'json' ? JSON.stringify(brief, null, 2) : `${briefMarkdown(markdown)}\n\n${OMITTED_NOTE}`,
      links,
    };
  },
});

/** Sections of the Markdown a summary keeps; the rest (timeline, change points, log signatures, candidates, gaps) is in the resources. */
const BRIEF_SECTIONS = new Set(['Summary', 'Impact', 'Trigger', 'Root cause', 'Five whys', 'Action items', 'Seen before', 'Content withheld']);
const OMITTED_NOTE = '_Summary. The timeline, metric change points, log signatures and every candidate considered are in the full report: read the report.md resource linked here (or report.html, timeline.json), or call draft_postmortem with detail "full"._';

function briefMarkdown(markdown: string): string {
  const parts = markdown.split(/^(?=## )/m);
  return parts.filter((part, i) => i === 0 || BRIEF_SECTIONS.has(part.slice(3, part.indexOf('\n')).trim())).join('').trimEnd();
}

function reportLinks(incidentId: string): ToolLink[] {
  const base = `hindsight://incidents/${encodeURIComponent(incidentId)}`;
  return [
    { uri: `${base}/report.md`, name: `${incidentId} report.md`, mimeType: 'text/markdown', description: 'The full post-mortem (Markdown)' },
    { uri: `${base}/report.html`, name: `${incidentId} report.html`, mimeType: 'text/html', description: 'The full post-mortem with a chart per leading metric (HTML)' },
    { uri: `${base}/timeline.json`, name: `${incidentId} timeline.json`, mimeType: 'application/json', description: 'Every timeline event (JSON)' },
  ];
}

/** The report without its long lists; what was left out is counted, and where to read it is linked. */
function briefReport(report: Report, links: ToolLink[]) {
  const { timeline, spikes, log_signatures, candidates, similar_incidents, data_gaps, five_whys, ...rest } = report;
  return {
    ...rest,
    candidates: candidates.filter((c) => c.role !== 'ruled_out').slice(0, 3),
    similar_incidents: similar_incidents.slice(0, 3),
    detail: 'summary' as const,
    // the five whys are in the text content of the summary; the rest only in the full report
    omitted: { timeline: timeline.length, spikes: spikes.length, log_signatures: log_signatures.length, candidates: candidates.length, data_gaps: data_gaps.length, five_whys: five_whys.length },
    full_report: links.map((l) => l.uri),
  };
}
