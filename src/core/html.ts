// HTML rendering of a report: one self-contained page (inline CSS and SVG, nothing fetched at view
// time) that prints well. Every string is incident data and is escaped.
import type { MetricChart } from './charts.js';
import { triggerFinishedMs } from './charts.js';
import { ROLE_LABEL, triggerLabel, type Report, type TimelineEntry } from './report.js';
import { formatDuration, formatMs, parseIsoMs } from './time.js';

/** Chart geometry (SVG user units); x = PLOT_LEFT + (t − from) / (to − from) × PLOT_WIDTH. */
export const CHART = { width: 880, height: 272, left: 64, right: 24, top: 40, bottom: 40 } as const;
const PLOT_WIDTH = CHART.width - CHART.left - CHART.right;
const PLOT_HEIGHT = CHART.height - CHART.top - CHART.bottom;

const RANK = { low: 0, medium: 1, high: 2 } as const;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;

export function renderHtml(report: Report, charts: MetricChart[] = []): string {
  const inc = report.incident;
  const body: string[] = [];
  body.push(`<header><p class="kicker">Post-mortem draft</p><h1>${e(inc.title)}</h1>`);
  body.push('<p class="note">Draft written by Hindsight from the incident\'s evidence. Blameless: people appear by role. Review before publishing.</p>');
  const rows: Array<[string, string]> = [['Incident', e(inc.id) + (isWebUrl(inc.url) ? ` (<a href="${e(inc.url!)}">link</a>)` : '')]];
  if (inc.service) rows.push(['Service', e(inc.service)]);
  if (inc.severity) rows.push(['Severity', e(inc.severity)]);
  rows.push(['Started', e(inc.started_at)], ['Detected', e(inc.detected_at)], ['Resolved', e(inc.resolved_at ?? 'not resolved')]);
  if (inc.duration_ms !== undefined) rows.push(['Duration', e(formatDuration(inc.duration_ms))]);
  body.push(`<table class="facts">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table></header>`);

  body.push(section('Summary', list(report.summary.split('\n').filter((l) => l.trim()))));
  body.push(section('Impact', `<p>${e(report.impact)}</p>`));

  if (report.spikes.length) {
    const figures = charts.filter((c) => report.spikes[c.spike]).map((c) => chartFigure(report, c));
    const table =
      '<table><thead><tr><th>Metric</th><th>Scope</th><th>Onset</th><th>Baseline</th><th>Peak</th><th>Recovered</th></tr></thead><tbody>' +
      report.spikes
        .map((s) => `<tr><td>${e(s.metric)}</td><td>${e(s.scope)}</td><td class="t">${e(s.onset)}</td><td class="n">${num(s.baseline)}</td><td class="n">${num(s.peak)}</td><td class="t">${e(s.recovered_at ?? '—')}</td></tr>`)
        .join('') +
      '</tbody></table>';
    body.push(section('Metrics around the onset', figures.join('') + table));
  }

  if (report.trigger) {
    const t = report.trigger;
    body.push(
      section(
        'Trigger',
        `<p class="verdict"><strong>${e(triggerLabel(t))}${t.sha ? `, commit <code>${e(t.sha.slice(0, 12))}</code>` : ''}</strong> <span class="conf">confidence ${t.confidence.toFixed(2)}</span></p>` +
          `<h3>Evidence</h3>${list(t.evidence)}`,
      ),
    );
  } else {
    body.push(section('Trigger', `<p class="verdict"><strong>No change triggered this incident.</strong> ${e(report.trigger_reason)}</p>`));
  }

  body.push(section('Root cause', `<p>${e(report.root_cause)}</p>`));
  body.push(
    section(
      'Five whys',
      `<ol class="whys">${report.five_whys
        .map((w) => `<li><strong>${e(w.why)}</strong><br>${e(w.because)}${w.evidence.length ? `<ul class="ev">${w.evidence.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : ''}</li>`)
        .join('')}</ol>`,
    ),
  );
  body.push(
    section(
      'Action items',
      '<table><thead><tr><th>Priority</th><th>Type</th><th>Action</th><th>Rationale</th></tr></thead><tbody>' +
        report.action_items
          .map((a) => `<tr><td class="k"><span class="badge p${e(a.priority.slice(1))}">${e(a.priority)}</span></td><td class="k">${e(a.type)}</td><td>${e(a.title)}</td><td>${e(a.rationale)}</td></tr>`)
          .join('') +
        '</tbody></table>',
    ),
  );

  const shown = report.timeline.filter((x) => RANK[x.relevance] >= RANK.medium);
  body.push(
    section(
      'Timeline',
      `<p class="note">${shown.length} of ${report.timeline.length} events (relevance medium and above; all times UTC).</p>` +
        '<table class="timeline"><thead><tr><th>Time (UTC)</th><th>Source</th><th>Kind</th><th>What happened</th></tr></thead><tbody>' +
        shown
          .map((x) => `<tr class="rel-${x.relevance} kind-${x.kind}"><td class="t">${e(x.at)}</td><td class="k">${e(x.source)}</td><td class="k">${e(x.kind)}</td><td>${e(x.summary)}${x.count && x.count > 1 ? ` <span class="count">×${x.count}</span>` : ''}</td></tr>`)
          .join('') +
        '</tbody></table>',
    ),
  );

  body.push(
    section(
      'Changes considered',
      report.candidates.length === 0
        ? '<p>No deployments or change events in the bundle.</p>'
        : '<table><thead><tr><th>Score</th><th>Role</th><th>Change</th><th>Commit</th><th>Live at</th><th>Reasons</th></tr></thead><tbody>' +
            report.candidates
              .map((c) => {
                const what = c.change_event_id ? `${c.source} change event ${c.change_event_id}${c.repo ? ` (${c.repo})` : ''}` : `${c.repo} #${c.deployment_id}`;
                return `<tr class="role-${c.role}"><td class="n">${c.score.toFixed(2)}</td><td class="k"><span class="badge ${c.role}">${ROLE_LABEL[c.role]}</span></td><td>${e(what)}</td><td class="k">${c.sha ? `<code>${e(c.sha.slice(0, 7))}</code>` : '—'}</td><td class="t">${e(c.finished_at ?? 'never')}</td><td>${e(c.reasons.join('; '))}</td></tr>`;
              })
              .join('') +
            '</tbody></table>',
    ),
  );

  if (report.seen_before?.length) {
    body.push(
      section(
        'Seen before',
        list(report.seen_before.map((s) => `${s.id}${s.date ? ` (${s.date.slice(0, 10)})` : ''}: ${s.title} — ${s.why_similar.join('; ')}${s.open_action_items.length ? ` (${s.open_action_items.length} action item(s) not marked done)` : ''}`)),
      ),
    );
  }
  if (report.similar_incidents.length) {
    body.push(section('Similar past incidents', list(report.similar_incidents.map((s) => `${s.id}: ${s.title} (score ${s.score.toFixed(2)}) — ${s.why_similar}`))));
  }
  if (report.data_gaps.length) body.push(section('What this analysis could not see', list(report.data_gaps)));
  const withheld = report.withheld ?? [];
  if (withheld.length) {
    body.push(
      section(
        'Content withheld',
        '<p>Some texts of this incident\'s data addressed an automated reader rather than people. They are shown as “[instruction-like text withheld]”; read them in the original:</p>' +
          '<table><thead><tr><th>Source</th><th>At (UTC)</th><th>Reference</th><th>Records</th></tr></thead><tbody>' +
          withheld.map((w) => `<tr><td>${e(w.source)}</td><td class="t">${e(w.at)}</td><td>${w.ref ? `<code>${e(w.ref)}</code>` : '—'}</td><td class="n">${w.count}</td></tr>`).join('') +
          '</tbody></table>',
      ),
    );
  }
  const kinds = Object.entries(report.redactions.by_kind).map(([k, n]) => `${k} ${n}`).join(', ');
  body.push(
    `<footer>Generated by Hindsight ${e(report.generated_by.version)} (${e(report.generated_by.engine)} engine${report.generated_by.model ? `, ${e(report.generated_by.model)}` : ''}). Redacted: ${report.redactions.total}${kinds ? ` (${e(kinds)})` : ''}.</footer>`,
  );

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Post-mortem: ${e(inc.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}

function section(title: string, html: string): string {
  return `<section><h2>${e(title)}</h2>${html}</section>`;
}

function list(items: string[]): string {
  return items.length ? `<ul>${items.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : '<p class="note">None.</p>';
}

function isWebUrl(url: string | undefined): boolean {
  return !!url && /^https?:\/\/[^\s"'<>]+$/i.test(url);
}

function num(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toFixed(a >= 100 ? 0 : a >= 1 ? 2 : 4)));
}

interface Marker {
  ms: number;
  cls: 'change' | 'trigger' | 'page' | 'ack' | 'resolve';
  label: string;
  title: string;
}

const MARKER_KINDS: Partial<Record<TimelineEntry['kind'], Marker['cls']>> = {
  deploy: 'change',
  config_change: 'change',
  page: 'page',
  ack: 'ack',
  resolve: 'resolve',
};

function markersOf(report: Report, from: number, to: number): Marker[] {
  const out: Marker[] = [];
  const firstOf = new Set<string>();
  for (const x of report.timeline) {
    const cls = MARKER_KINDS[x.kind];
    const ms = parseIsoMs(x.at);
    if (!cls || ms === null || ms < from || ms > to) continue;
    // one line per responder milestone is enough: the first page, the first ack, the last resolve
    if (cls !== 'change' && cls !== 'resolve') {
      if (firstOf.has(cls)) continue;
      firstOf.add(cls);
    }
    if (cls === 'resolve') {
      const prev = out.findIndex((m) => m.cls === 'resolve');
      if (prev >= 0) out.splice(prev, 1);
    }
    out.push({ ms, cls, label: cls === 'change' ? '' : cls, title: `${x.at} ${x.kind}: ${x.summary}` });
  }
  const tMs = triggerFinishedMs(report);
  if (report.trigger && tMs !== null && tMs >= from && tMs <= to) {
    out.push({ ms: tMs, cls: 'trigger', label: 'trigger', title: `${formatMs(tMs)} trigger live: ${triggerLabel(report.trigger)}` });
  }
  return out;
}

function chartFigure(report: Report, chart: MetricChart): string {
  const spike = report.spikes[chart.spike]!;
  const { svg, markers } = chartSvg(report, chart, false);
  const legend = legendOf(markers)
    .map(([cls, text]) => `<span class="key ${cls}">${text}</span>`)
    .join('');
  const caption = `<figcaption><strong>${e(spike.metric)}</strong> <span class="scope">${e(spike.scope)}</span> — ${e(spikeSentence(spike))}${legend ? ` <span class="legend">${legend}</span>` : ''}</figcaption>`;
  return `<figure class="metric">${svg}${caption}</figure>`;
}

function spikeSentence(spike: Report['spikes'][number]): string {
  return `${spike.direction === 'up' ? 'rose' : 'fell'} from ${num(spike.baseline)} to ${num(spike.peak)} at ${spike.onset}${spike.recovered_at ? `, recovered ${spike.recovered_at}` : ', not recovered in the data'}.`;
}

const LEGEND: Array<[Marker['cls'], string]> = [
  ['trigger', 'trigger live'],
  ['change', 'deploy / change'],
  ['page', 'page'],
  ['ack', 'ack'],
  ['resolve', 'resolve'],
];

function legendOf(markers: Marker[]): Array<[Marker['cls'], string]> {
  return LEGEND.filter(([cls]) => markers.some((m) => m.cls === cls));
}

/** Height of the title above, and of the legend below, the plot in the standalone chart. */
export const STANDALONE_CHART = { header: 46, footer: 26, height: CHART.height + 46 + 26 } as const;

/**
 * One chart as a self-contained SVG document (for rasterising, e.g. the PNG in the Slack review
 * thread): concrete colours in its own stylesheet, a white background, the metric as a title and
 * the legend drawn in. The plot is the HTML chart's, moved down by STANDALONE_CHART.header, so
 * x positions are the same. Text uses FONT_FAMILY; the rasteriser must be given such a font.
 */
export function renderChartSvg(report: Report, chart: MetricChart): string {
  const spike = report.spikes[chart.spike]!;
  const { svg, markers } = chartSvg(report, chart, true);
  const { header, height } = STANDALONE_CHART;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${height}" viewBox="0 0 ${CHART.width} ${height}">`);
  out.push(`<style>${SVG_CSS}</style>`);
  out.push(`<rect x="0" y="0" width="${CHART.width}" height="${height}" fill="${PALETTE.bg}"/>`);
  out.push(`<text class="title" x="${CHART.left}" y="19">${e(clipText(`${spike.metric} (${spike.scope})`, 110))}</text>`);
  out.push(`<text class="sub" x="${CHART.left}" y="36">${e(clipText(spikeSentence(spike), 140))}</text>`);
  out.push(`<g transform="translate(0 ${header})">${svg}</g>`);
  let x = CHART.left;
  const y = header + CHART.height + 14;
  for (const [cls, text] of legendOf(markers)) {
    out.push(`<line class="marker ${cls}" x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}"/><text class="axis" x="${x + 23}" y="${y}">${text}</text>`);
    x += 23 + text.length * 6.5 + 16;
  }
  out.push('</svg>');
  return out.join('');
}

function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function chartSvg(report: Report, chart: MetricChart, nested: boolean): { svg: string; markers: Marker[] } {
  const spike = report.spikes[chart.spike]!;
  const { from_ms: from, to_ms: to } = chart;
  const span = to - from || 1;
  const x = (ms: number) => round(CHART.left + ((ms - from) / span) * PLOT_WIDTH);
  const values = chart.points.map((p) => p[1]).filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = Math.min(spike.baseline, ...values);
  let hi = Math.max(spike.baseline, ...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > 0 && lo < hi * 0.5) lo = 0;
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const step = niceStep((hi - lo) / 4);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const y = (v: number) => round(CHART.top + (1 - (v - lo) / (hi - lo)) * PLOT_HEIGHT);
  const bottom = CHART.top + PLOT_HEIGHT;
  const right = CHART.left + PLOT_WIDTH;

  const svg: string[] = [];
  const label = `${spike.metric} (${spike.scope}) from ${formatMs(from)} to ${formatMs(to)}`;
  svg.push(
    `<svg class="chart" role="img" aria-label="${e(label)}" ${nested ? `width="${CHART.width}" height="${CHART.height}" ` : ''}viewBox="0 0 ${CHART.width} ${CHART.height}" ` +
      `data-from-ms="${from}" data-to-ms="${to}" data-plot-left="${CHART.left}" data-plot-width="${PLOT_WIDTH}">`,
  );
  // abnormal regime
  const onsetMs = parseIsoMs(spike.onset);
  if (onsetMs !== null) {
    const endMs = spike.recovered_at ? (parseIsoMs(spike.recovered_at) ?? to) : to;
    const x0 = x(Math.max(from, onsetMs));
    svg.push(`<rect class="regime" x="${x0}" y="${CHART.top}" width="${round(Math.max(0, x(Math.min(to, endMs)) - x0))}" height="${PLOT_HEIGHT}"><title>abnormal from ${e(spike.onset)}${spike.recovered_at ? ` to ${e(spike.recovered_at)}` : ''}</title></rect>`);
  }
  // y grid and labels
  for (let v = lo; v <= hi + step / 2; v += step) {
    const yy = y(v);
    svg.push(`<line class="grid" x1="${CHART.left}" y1="${yy}" x2="${right}" y2="${yy}"/><text class="axis" x="${CHART.left - 6}" y="${round(yy + 4)}" text-anchor="end">${e(num(v))}</text>`);
  }
  // x ticks
  for (const t of timeTicks(from, to)) {
    const xx = x(t);
    svg.push(`<line class="tick" x1="${xx}" y1="${bottom}" x2="${xx}" y2="${bottom + 5}"/><text class="axis" x="${xx}" y="${bottom + 18}" text-anchor="middle">${formatMs(t).slice(11, 16)}</text>`);
  }
  svg.push(`<text class="axis" x="${right}" y="${CHART.height - 4}" text-anchor="end">UTC, ${formatMs(from).slice(0, 10)}</text>`);
  svg.push(`<line class="baseline" x1="${CHART.left}" y1="${y(spike.baseline)}" x2="${right}" y2="${y(spike.baseline)}"><title>baseline ${e(num(spike.baseline))}</title></line>`);
  // the series: one path, broken at nulls
  let d = '';
  let pen = false;
  for (const [t, v] of chart.points) {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(t)},${y(v)}`;
    pen = true;
  }
  if (d) svg.push(`<path class="series" d="${d}"/>`);
  // markers, the trigger last so it is drawn on top
  const markers = markersOf(report, from, to).sort((a, b) => Number(a.cls === 'trigger') - Number(b.cls === 'trigger'));
  // labels go on the first of three rows above the plot where they do not overlap the previous one
  const rowEnds = [-Infinity, -Infinity, -Infinity];
  const labelled = markers.filter((m) => m.label).sort((a, b) => a.ms - b.ms);
  const labels: string[] = [];
  for (const m of labelled) {
    const xx = x(m.ms);
    const w = m.label.length * 6.5;
    const end = xx + w + 3 > right;
    const [lo, hi] = end ? [xx - w - 3, xx] : [xx, xx + w + 3];
    let row = rowEnds.findIndex((r) => r + 4 <= lo);
    if (row < 0) row = rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = hi;
    labels.push(`<text class="mlabel ${m.cls}" x="${round(end ? xx - 3 : xx + 3)}" y="${CHART.top - 28 + row * 11}" text-anchor="${end ? 'end' : 'start'}">${e(m.label)}</text>`);
  }
  for (const m of markers) {
    const xx = x(m.ms);
    svg.push(`<line class="marker ${m.cls}" data-ms="${m.ms}" x1="${xx}" y1="${CHART.top}" x2="${xx}" y2="${bottom}"><title>${e(m.title)}</title></line>`);
  }
  svg.push(...labels);
  svg.push(`<rect class="frame" x="${CHART.left}" y="${CHART.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}"/>`);
  svg.push('</svg>');
  return { svg: svg.join(''), markers };
}

/** 1, 2 or 5 times a power of ten, at least raw */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

const TICK_STEPS = [60_000, 5 * 60_000, 10 * 60_000, 15 * 60_000, 30 * 60_000, 3600_000, 2 * 3600_000, 3 * 3600_000, 6 * 3600_000, 12 * 3600_000, 24 * 3600_000];

function timeTicks(from: number, to: number): number[] {
  const step = TICK_STEPS.find((s) => (to - from) / s <= 8) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

/** The report's colours; the trigger's is what tests look for on screenshots and the PNG. */
export const PALETTE = {
  ink: '#1c2430',
  muted: '#5b6675',
  line: '#d9dee5',
  bg: '#ffffff',
  accent: '#2f5fd0',
  trigger: '#d1242f',
  change: '#8a94a3',
  page: '#b35900',
  ack: '#7a3fc0',
  resolve: '#1a7f37',
} as const;

/** Fonts the standalone chart asks for, in order; DejaVu Sans and Liberation Sans ship with most Linux systems. */
export const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

// The chart rules of CSS with the colours written out: rasterisers do not resolve var().
const SVG_CSS = `
text{font-family:${FONT_FAMILY};font-size:11px}
.title{font-size:14px;font-weight:bold;fill:${PALETTE.ink}}
.sub{fill:${PALETTE.muted}}
.frame{fill:none;stroke:#aab3bf;stroke-width:1}
.grid{stroke:#edf0f4;stroke-width:1}
.tick{stroke:#aab3bf}
.axis{fill:${PALETTE.muted}}
.regime{fill:${PALETTE.trigger};fill-opacity:.06}
.baseline{stroke:#9aa4b2;stroke-dasharray:2 3;stroke-width:1}
.series{fill:none;stroke:${PALETTE.accent};stroke-width:1.8;stroke-linejoin:round}
.marker{stroke-width:1.5}
.marker.change{stroke:${PALETTE.change};stroke-dasharray:4 3}
.marker.trigger{stroke:${PALETTE.trigger};stroke-width:3}
.marker.page{stroke:${PALETTE.page}}.marker.ack{stroke:${PALETTE.ack}}.marker.resolve{stroke:${PALETTE.resolve}}
.mlabel{font-weight:bold}.mlabel.trigger{fill:${PALETTE.trigger}}.mlabel.page{fill:${PALETTE.page}}.mlabel.ack{fill:${PALETTE.ack}}.mlabel.resolve{fill:${PALETTE.resolve}}
`;

const CSS = `
:root{${Object.entries(PALETTE).map(([k, v]) => `--${k}:${v}`).join(';')}}
*{box-sizing:border-box}
body{margin:0;background:#f5f7fa;color:var(--ink);font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:960px;margin:0 auto;padding:32px 28px 48px;background:var(--bg)}
h1{font-size:26px;line-height:1.25;margin:4px 0 8px}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:14px 0 6px}
.kicker{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.08em;font-size:12px}
.note{color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:8px 0}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
thead th{background:#f0f3f7;font-weight:600}
table.facts{width:auto}table.facts th{color:var(--muted);font-weight:500;padding-right:24px}
th,td.k,td.n{white-space:nowrap;overflow-wrap:normal}
td.t{white-space:nowrap;overflow-wrap:normal;font-variant-numeric:tabular-nums;font-size:12.5px}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f0f3f7;padding:1px 4px;border-radius:3px}
.verdict{font-size:16px}.conf{color:var(--muted);font-size:13px;margin-left:6px}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;background:#eef1f5;white-space:nowrap}
.badge.trigger{background:#fde7e9;color:var(--trigger)}.badge.latent_defect{background:#fff1d6;color:#8a5300}.badge.ruled_out{color:var(--muted)}
.badge.p0{background:#fde7e9;color:var(--trigger)}.badge.p1{background:#fff1d6;color:#8a5300}
tr.role-trigger td{background:#fff8f8}
tr.rel-high td:last-child{font-weight:500}
tr.kind-page td,tr.kind-ack td,tr.kind-resolve td,tr.kind-deploy td,tr.kind-config_change td{background:#fafbfc}
.count{color:var(--muted);font-size:12px}
ol.whys li{margin-bottom:8px}ul.ev{color:var(--muted);font-size:13px;margin:2px 0}
figure.metric{margin:12px 0 22px}
svg.chart{display:block;width:100%;height:auto;font:11px -apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .frame{fill:none;stroke:#aab3bf;stroke-width:1}
svg .grid{stroke:#edf0f4;stroke-width:1}
svg .tick{stroke:#aab3bf}
svg .axis{fill:var(--muted)}
svg .regime{fill:#d1242f;fill-opacity:.06}
svg .baseline{stroke:#9aa4b2;stroke-dasharray:2 3;stroke-width:1}
svg .series{fill:none;stroke:var(--accent);stroke-width:1.8;stroke-linejoin:round}
svg .marker{stroke-width:1.5}
svg .marker.change{stroke:var(--change);stroke-dasharray:4 3}
svg .marker.trigger{stroke:var(--trigger);stroke-width:3}
svg .marker.page{stroke:var(--page)}svg .marker.ack{stroke:var(--ack)}svg .marker.resolve{stroke:var(--resolve)}
svg .mlabel{font-weight:600}svg .mlabel.trigger{fill:var(--trigger)}svg .mlabel.page{fill:var(--page)}svg .mlabel.ack{fill:var(--ack)}svg .mlabel.resolve{fill:var(--resolve)}
figcaption{font-size:13px;color:var(--muted);margin-top:4px}figcaption strong{color:var(--ink)}
.legend{margin-left:6px}.key{white-space:nowrap;margin-right:10px}
.key::before{content:"";display:inline-block;width:14px;height:0;border-top:3px solid;vertical-align:middle;margin-right:4px}
.key.trigger::before{border-color:var(--trigger)}.key.change::before{border-top:2px dashed var(--change)}.key.page::before{border-color:var(--page)}.key.ack::before{border-color:var(--ack)}.key.resolve::before{border-color:var(--resolve)}
footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
@media print{
  @page{margin:14mm}
  body{background:#fff;font-size:11pt}
  main{max-width:none;padding:0}
  a{color:inherit;text-decoration:none}
  h2{break-after:avoid}
  figure,tr,li{break-inside:avoid}
  thead th,.badge,tr.role-trigger td,svg .regime{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`;
