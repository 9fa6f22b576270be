// Markdown rendering of a report. Made only from the (already redacted) report object, so the two
// formats cannot disagree.
import { ROLE_LABEL, triggerLabel, type Report } from './report.js';
import { escapeCell, timelineMarkdown } from './timeline.js';
import { formatDuration } from './time.js';

export interface MarkdownOptions {
  /** lowest relevance shown in the timeline table (the JSON keeps everything) */
  timelineRelevance?: 'high' | 'medium' | 'low';
}

const RANK = { low: 0, medium: 1, high: 2 } as const;

export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const inc = report.incident;
  const min = RANK[options.timelineRelevance ?? 'medium'];
  const lines: string[] = [];
  lines.push(`# Post-mortem: ${inc.title}`, '');
  lines.push('> Draft written by Hindsight from the incident\'s evidence. Blameless: people appear by role. Review before publishing.', '');
  lines.push('| | |', '| --- | --- |');
  lines.push(`| Incident | ${escapeCell(inc.id)}${inc.url ? ` ([link](${inc.url}))` : ''} |`);
  if (inc.service) lines.push(`| Service | ${escapeCell(inc.service)} |`);
  if (inc.severity) lines.push(`| Severity | ${escapeCell(inc.severity)} |`);
  lines.push(`| Started | ${inc.started_at} |`, `| Detected | ${inc.detected_at} |`);
  lines.push(`| Resolved | ${inc.resolved_at ?? 'not resolved'} |`);
  if (inc.duration_ms !== undefined) lines.push(`| Duration | ${formatDuration(inc.duration_ms)} |`);
  lines.push('');

  lines.push('## Summary', '', ...report.summary.split('\n').map((l) => `- ${l}`), '');
  lines.push('## Impact', '', report.impact, '');

  lines.push('## Trigger', '');
  if (report.trigger) {
    const t = report.trigger;
    lines.push(`**${triggerLabel(t)}${t.sha ? `, commit \`${t.sha.slice(0, 12)}\`` : ''}** (confidence ${t.confidence.toFixed(2)})`, '');
    lines.push('Evidence:', '', ...t.evidence.map((e) => `- ${e}`), '');
  } else {
    lines.push(`**No change triggered this incident.** ${report.trigger_reason}`, '');
  }

  lines.push('## Root cause', '', report.root_cause, '');

  lines.push('## Five whys', '');
  report.five_whys.forEach((w, i) => {
    lines.push(`${i + 1}. **${w.why}**  `, `   ${w.because}`);
    for (const e of w.evidence) lines.push(`   - evidence: ${e}`);
  });
  lines.push('');

  lines.push('## Action items', '', '| Priority | Type | Action | Rationale |', '| --- | --- | --- | --- |');
  for (const a of report.action_items) lines.push(`| ${a.priority} | ${a.type} | ${escapeCell(a.title)} | ${escapeCell(a.rationale)} |`);
  lines.push('');

  const shown = report.timeline.filter((e) => RANK[e.relevance] >= min);
  lines.push('## Timeline', '', `${shown.length} of ${report.timeline.length} events (relevance ${options.timelineRelevance ?? 'medium'} and above; all times UTC).`, '');
  lines.push(timelineMarkdown(shown), '');

  if (report.spikes.length) {
    lines.push('## Metric change points', '', '| Metric | Scope | Onset | Baseline | Peak | Recovered |', '| --- | --- | --- | --- | --- | --- |');
    for (const s of report.spikes) lines.push(`| ${escapeCell(s.metric)} | ${escapeCell(s.scope)} | ${s.onset} | ${s.baseline} | ${s.peak} | ${s.recovered_at ?? '—'} |`);
    lines.push('');
  }
  if (report.log_signatures.length) {
    lines.push('## Log signatures', '', '| Level | Count | First | Last | Template |', '| --- | --- | --- | --- | --- |');
    for (const s of report.log_signatures.filter((x) => x.level === 'error' || x.level === 'warn').slice(0, 12)) {
      lines.push(`| ${s.level} | ${s.count} | ${s.first_at} | ${s.last_at} | \`${escapeCell(s.template).replace(/`/g, "'")}\` |`);
    }
    lines.push('');
  }

  lines.push('## Changes considered', '');
  if (report.candidates.length === 0) lines.push('No deployments or change events in the bundle.', '');
  else {
    lines.push('| Score | Role | Change | Commit | Live at | Reasons |', '| --- | --- | --- | --- | --- | --- |');
    for (const c of report.candidates) {
      const what = c.change_event_id ? `${c.source} change event ${c.change_event_id}${c.repo ? ` (${c.repo})` : ''}` : `${c.repo} #${c.deployment_id}`;
      lines.push(`| ${c.score.toFixed(2)} | ${ROLE_LABEL[c.role]} | ${escapeCell(what)} | ${c.sha ? `\`${c.sha.slice(0, 7)}\`` : '—'} | ${c.finished_at ?? 'never'} | ${escapeCell(c.reasons.join('; '))} |`);
    }
    lines.push('');
  }

  if (report.similar_incidents.length) {
    lines.push('## Similar past incidents', '');
    for (const s of report.similar_incidents) lines.push(`- ${s.id}: ${s.title} (score ${s.score.toFixed(2)}) — ${s.why_similar}`);
    lines.push('');
  }
  if (report.seen_before?.length) {
    lines.push('## Seen before', '');
    for (const s of report.seen_before) {
      lines.push(`- **${s.id}**${s.date ? ` (${s.date.slice(0, 10)})` : ''}: ${s.url ? `[${s.title}](${s.url})` : s.title} — ${s.why_similar.join('; ')}`);
      for (const a of s.open_action_items) {
        const ticket = a.ticket ? (a.url ? ` [${a.ticket}](${a.url})` : ` ${a.ticket}`) : '';
        const status = a.status === 'open' ? `still open${a.status_from && a.status_from !== 'postmortem' ? ` in ${a.status_from === 'github' ? 'GitHub' : 'Jira'}` : ''}` : 'not marked done';
        lines.push(`  - Action item ${status}:${ticket} ${a.title}`);
      }
    }
    lines.push('');
  }
  if (report.data_gaps.length) {
    lines.push('## What this analysis could not see', '', ...report.data_gaps.map((g) => `- ${g}`), '');
  }
  // Stored reports from before the field existed have none.
  const withheld = report.withheld ?? [];
  if (withheld.length) {
    const records = withheld.reduce((n, w) => n + w.count, 0);
    lines.push(
      '## Content withheld',
      '',
      `${withheld.length} ${withheld.length === 1 ? 'text' : 'texts'} of this incident's data (${records} record${records === 1 ? '' : 's'}) addressed an automated reader rather than people. ` +
        'They are shown as `[instruction-like text withheld]` and never quoted; read them in the original, where they were found:',
      '',
      '| Source | At (UTC) | Reference | Records |',
      '| --- | --- | --- | --- |',
      ...withheld.map((w) => `| ${w.source} | ${w.at} | ${w.ref ? `\`${escapeCell(w.ref).replace(/`/g, "'")}\`` : '—'} | ${w.count} |`),
      '',
    );
  }
  const kinds = Object.entries(report.redactions.by_kind).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push('---', '', `Generated by Hindsight ${report.generated_by.version} (${report.generated_by.engine} engine${report.generated_by.model ? `, ${report.generated_by.model}` : ''}). Redacted: ${report.redactions.total}${kinds ? ` (${kinds})` : ''}.`, '');
  return lines.join('\n');
}
