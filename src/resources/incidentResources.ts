// Resource templates over stored incidents: the report (Markdown and HTML), the timeline and the redacted
// bundle. Each resource is computed from the local store on read.
import { analyzeBundle, buildReport, timelineOf } from '../core/analyze.js';
import { withholdStrings } from '../core/instructions.js';
import { renderMarkdown } from '../core/markdown.js';
import { renderHtml } from '../core/html.js';
import { metricCharts } from '../core/charts.js';
import { Redactor } from '../core/redact.js';
import { PeopleDirectory } from '../core/people.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { ToolError } from '../tools/defineTool.js';

export interface IncidentResource {
  name: string;
  title: string;
  description: string;
  uriTemplate: string;
  mimeType: string;
  /** its size follows the stored bundle's: above the size limit it is refused without rendering */
  servesWholeBundle: boolean;
  /** what to use instead when it is too large to serve */
  tooLargeHint: string;
  read: (incidentId: string, deps: ToolDeps) => string;
}

function bundleOf(incidentId: string, deps: ToolDeps) {
  const bundle = deps.store.getBundle(incidentId);
  if (!bundle) throw new ToolError(`unknown incident "${incidentId}"`);
  return bundle;
}

export const INCIDENT_RESOURCES: IncidentResource[] = [
  {
    name: 'incident-report',
    title: 'Post-mortem report (Markdown)',
    description: 'The post-mortem of a stored incident, rendered as Markdown',
    uriTemplate: 'hindsight://incidents/{incident_id}/report.md',
    mimeType: 'text/markdown',
    servesWholeBundle: false,
    tooLargeHint: 'call draft_postmortem with format json and read the sections you need',
    read(incidentId, deps) {
      const stored = deps.store.getReport(incidentId);
      if (stored) return stored.markdown;
      return renderMarkdown(buildReport(analyzeBundle(bundleOf(incidentId, deps))));
    },
  },
  {
    name: 'incident-report-html',
    title: 'Post-mortem report (HTML)',
    description: 'The post-mortem of a stored incident as one self-contained HTML page with a chart per leading metric (no external resources)',
    uriTemplate: 'hindsight://incidents/{incident_id}/report.html',
    mimeType: 'text/html',
    servesWholeBundle: false,
    tooLargeHint: 'read the same incident\'s report.md, or call draft_postmortem with format json',
    read(incidentId, deps) {
      const analysis = analyzeBundle(bundleOf(incidentId, deps));
      // the stored report keeps what the history added (similar incidents, seen before)
      const report = deps.store.getReport(incidentId)?.report ?? buildReport(analysis);
      return renderHtml(report, metricCharts(analysis, report));
    },
  },
  {
    name: 'incident-timeline',
    title: 'Incident timeline (JSON)',
    description: 'Every timeline event of a stored incident, all relevances, redacted',
    uriTemplate: 'hindsight://incidents/{incident_id}/timeline.json',
    mimeType: 'application/json',
    servesWholeBundle: false,
    tooLargeHint: 'call build_timeline with from, to, sources, min_relevance and limit to read it in parts',
    read(incidentId, deps) {
      return JSON.stringify(timelineOf(analyzeBundle(bundleOf(incidentId, deps))), null, 2);
    },
  },
  {
    name: 'incident-bundle',
    title: 'Context bundle (redacted)',
    description: 'The stored context bundle with secrets and people redacted and instruction-like text withheld, safe to share',
    uriTemplate: 'hindsight://incidents/{incident_id}/bundle.json',
    mimeType: 'application/json',
    servesWholeBundle: true,
    tooLargeHint: 'use get_incident_context for its summary and build_timeline, find_triggering_commit or draft_postmortem for the analysis',
    read(incidentId, deps) {
      const bundle = bundleOf(incidentId, deps);
      const redactor = new Redactor(PeopleDirectory.fromBundle(bundle).aliases());
      return JSON.stringify(redactor.redactDeep(withholdStrings(bundle)), null, 2);
    },
  },
];
