// The HTML report: a self-contained page whose charts put the trigger where it went live.
import { readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { downsample, metricCharts } from '../src/core/charts.js';
import { renderHtml } from '../src/core/html.js';
import { loadBundleFile } from '../src/io/bundleLoader.js';
import type { Bundle } from '../src/core/bundle.js';
import { at, buildIncident, sha, TIMEOUT_PATCH, DOCS_PATCH } from './helpers/incidentBuilder.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';

function render(bundle: Bundle) {
  const analysis = analyzeBundle(bundle);
  const report = buildReport(analysis);
  const charts = metricCharts(analysis, report);
  return { report, charts, html: renderHtml(report, charts) };
}

interface SvgChart {
  svg: string;
  fromMs: number;
  toMs: number;
  left: number;
  width: number;
}

function svgs(html: string): SvgChart[] {
  return [...html.matchAll(/<svg\b[^>]*>[\s\S]*?<\/svg>/g)].map((m) => {
    const attr = (name: string) => Number(/\bdata-([a-z-]+)="/.test(m[0]) ? new RegExp(`data-${name}="([^"]+)"`).exec(m[0])![1] : NaN);
    return { svg: m[0], fromMs: attr('from-ms'), toMs: attr('to-ms'), left: attr('plot-left'), width: attr('plot-width') };
  });
}

/** x1 of every <line class="marker CLS"> of one chart */
function markerXs(svg: string, cls: string): number[] {
  return [...svg.matchAll(new RegExp(`<line class="marker ${cls}"[^>]*\\bx1="([^"]+)"`, 'g'))].map((m) => Number(m[1]));
}

const expectedX = (c: SvgChart, ms: number) => c.left + ((ms - c.fromMs) / (c.toMs - c.fromMs)) * c.width;

function incident(): Bundle {
  const bundle = buildIncident({
    service: 'checkout',
    errorOnset: 3,
    errorEnd: 40,
    pageAt: 6,
    resolveAt: 45,
    errorLog: 'upstream timeout after 20ms (request {n})',
    deployments: [
      { repo: 'acme/checkout', id: 501, finishedAt: -20, commits: [{ sha: sha('docs'), message: 'Docs: runbook', files: [{ filename: 'docs/runbook.md', patch: DOCS_PATCH }] }] },
      { repo: 'acme/checkout', id: 502, finishedAt: 2, commits: [{ sha: sha('timeout'), message: 'Lower upstream timeout', files: [{ filename: 'config/upstream.yaml', patch: TIMEOUT_PATCH }] }] },
    ],
    extraSeries: [{ metric: 'system.cpu.user', scope: 'service:checkout', value: (m) => (m >= 3 && m < 40 ? 85 : 20) }],
  });
  const b = bundle as unknown as { incident: { title: string }; sources: { pagerduty: { alerts: unknown[] } } };
  b.incident.title = `checkout ${HOSTILE}`;
  b.sources.pagerduty.alerts = [{ id: 'A1', created_at: at(5), summary: `Error rate high ${HOSTILE}`, severity: 'critical' }];
  return bundle;
}

describe('HTML report', () => {
  const { report, charts, html } = render(incident());
  const found = svgs(html);

  it('draws one SVG chart per leading metric, no more than the cap', () => {
    expect(report.spikes.length).toBeGreaterThanOrEqual(2);
    const leading = new Set(report.spikes.map((s) => `${s.metric}|${s.scope}`));
    expect(found).toHaveLength(Math.min(3, leading.size));
    expect(charts.map((c) => `${report.spikes[c.spike]!.metric}|${report.spikes[c.spike]!.scope}`)).toEqual([...new Set(charts.map((c) => `${report.spikes[c.spike]!.metric}|${report.spikes[c.spike]!.scope}`))]);
    for (const c of charts) expect(c.points.length).toBeLessThanOrEqual(300);
    expect(html).toContain('trace.http.request.errors');
    expect(html).toContain('system.cpu.user');
  });

  it('puts the trigger marker at the x where the trigger finished, on every chart', () => {
    expect(report.trigger?.deployment_id).toBe(502);
    const finished = Date.parse(report.candidates.find((c) => c.deployment_id === 502)!.finished_at!);
    expect(finished).toBe(Date.parse(at(2)));
    for (const c of found) {
      const xs = markerXs(c.svg, 'trigger');
      expect(xs).toHaveLength(1);
      expect(xs[0]).toBeCloseTo(expectedX(c, finished), 0);
      // the window reaches from before the trigger to after the resolution
      expect(c.fromMs).toBeLessThan(finished);
      expect(c.toMs).toBeGreaterThan(Date.parse(at(45)));
    }
  });

  it('draws deploy markers and the page, ack and resolve lines at their times', () => {
    for (const c of found) {
      // the earlier, harmless deploy is a plain change marker; the trigger is not drawn twice as one
      const changes = markerXs(c.svg, 'change');
      expect(changes.some((x) => Math.abs(x - expectedX(c, Date.parse(at(-20)))) < 0.5)).toBe(true);
      expect(markerXs(c.svg, 'page')[0]).toBeCloseTo(expectedX(c, Date.parse(at(6))), 0);
      expect(markerXs(c.svg, 'ack')[0]).toBeCloseTo(expectedX(c, Date.parse(at(8))), 0);
      expect(markerXs(c.svg, 'resolve')[0]).toBeCloseTo(expectedX(c, Date.parse(at(45))), 0);
    }
  });

  it('escapes incident text everywhere', () => {
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Error rate high &lt;script&gt;');
  });

  it('needs nothing from the network to display', () => {
    // no external stylesheet, script, image, font or frame; CSS without url() or @import
    const tags = html.match(/<[a-zA-Z][^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((t) => /^<(script|link|iframe|object|embed|img|image|use|source|video|audio)\b/i.test(t))).toEqual([]);
    expect(tags.filter((t) => /\s(src|srcset|xlink:href|action|formaction|background|poster)\s*=/i.test(t))).toEqual([]);
    expect(tags.filter((t) => /https?:/i.test(t) && !t.startsWith('<a href='))).toEqual([]);
    const css = html.slice(html.indexOf('<style>'), html.indexOf('</style>'));
    expect(css).not.toMatch(/url\s*\(|@import|@font-face/i);
    const hrefs = tags.flatMap((t) => [...t.matchAll(/\bhref="([^"]*)"/g)].map((m) => m[1]));
    expect(hrefs.every((h) => h === report.incident.url)).toBe(true);
    expect(html).toContain('@media print');
  });

  it('keeps an incident URL only as a link, and never a javascript: one', () => {
    const withUrl = structuredClone(report);
    withUrl.incident.url = 'https://acme.pagerduty.example/incidents/PX1';
    expect(renderHtml(withUrl)).toContain('<a href="https://acme.pagerduty.example/incidents/PX1">');
    withUrl.incident.url = 'javascript:alert(1)';
    const hostile = renderHtml(withUrl);
    expect(hostile).not.toContain('javascript:');
    expect(hostile).not.toMatch(/\bhref=/);
  });

  it('renders without charts (a report alone) and without a trigger', () => {
    const bare = structuredClone(report);
    bare.trigger = null;
    const page = renderHtml(bare);
    expect(page).not.toContain('<svg');
    expect(page).toContain('No change triggered this incident.');
    expect(page).toContain('Action items');
  });

  it('sections follow the report: trigger evidence, root cause, five whys, action items, timeline, candidates with roles', () => {
    for (const e of report.trigger!.evidence.slice(0, 2)) expect(html).toContain(e.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
    for (const title of ['Trigger', 'Root cause', 'Five whys', 'Action items', 'Timeline', 'Changes considered']) expect(html).toContain(`<h2>${title}</h2>`);
    expect(html).toContain('<span class="badge trigger">trigger</span>');
    expect(html).toContain('<span class="badge ruled_out">ruled out</span>');
    const lowOnly = report.timeline.filter((e) => e.relevance === 'low');
    const shownRows = (html.match(/<tr class="rel-/g) ?? []).length;
    expect(shownRows).toBe(report.timeline.length - lowOnly.length);
  });
});

describe('downsample', () => {
  it('keeps at most the cap, the extremes of every bucket and the gaps', () => {
    const points: Array<[number, number | null]> = Array.from({ length: 5000 }, (_, i) => [i * 1000, i === 2500 ? 999 : i >= 4000 && i < 4200 ? null : i % 10]);
    const out = downsample(points, 300);
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out.some(([t, v]) => t === 2_500_000 && v === 999)).toBe(true);
    expect(out.some(([, v]) => v === null)).toBe(true);
    expect(out.map(([t]) => t)).toEqual([...out.map(([t]) => t)].sort((a, b) => a - b));
  });
});

// The sample incident and the stored outage sets: wherever a trigger went live, every chart shows it there.
describe('HTML report of the example incidents', () => {
  const dirs = [join(ROOT, 'examples', 'sample-incident')];
  for (const set of ['outages', 'outages-2', 'outages-3']) {
    const base = join(ROOT, 'test', set);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base)) if (existsSync(join(base, d, 'bundle.json'))) dirs.push(join(base, d));
  }

  it.each(dirs.map((d) => [d.slice(ROOT.length + 1), d]))('%s', (_name, dir) => {
    const loaded = loadBundleFile(join(dir, 'bundle.json'));
    const analysis = analyzeBundle(loaded.bundle, loaded.logs);
    const report = buildReport(analysis);
    const html = renderHtml(report, metricCharts(analysis, report));
    const found = svgs(html);
    expect(found.length).toBe(Math.min(3, new Set(report.spikes.map((s) => `${s.metric}|${s.scope}`)).size));
    const trig = report.trigger ? report.candidates.find((c) => c.role === 'trigger')?.finished_at : null;
    for (const c of found) {
      const xs = markerXs(c.svg, 'trigger');
      if (!trig) {
        expect(xs).toEqual([]);
        continue;
      }
      const ms = Date.parse(trig);
      if (ms < c.fromMs || ms > c.toMs) continue;
      expect(xs).toHaveLength(1);
      expect(xs[0]).toBeCloseTo(expectedX(c, ms), 0);
    }
    if (trig && found.length) expect(found.some((c) => markerXs(c.svg, 'trigger').length === 1)).toBe(true);
  });
});
