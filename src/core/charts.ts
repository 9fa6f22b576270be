// The metric points the HTML report draws. The Report keeps only change points (spikes), so the
// series around the onset are cut from the analysis here. Pure: no I/O, no clock.
import { orderedSpikes, type Analysis } from './analyze.js';
import type { Report } from './report.js';
import { parseIsoMs } from './time.js';

export interface MetricChart {
  /** index into report.spikes of the change point this series shows (labels come from the redacted report) */
  spike: number;
  /** the time window drawn, epoch ms */
  from_ms: number;
  to_ms: number;
  /** [epoch ms, value or null] sorted by time, at most MAX_CHART_POINTS; null breaks the line */
  points: Array<[number, number | null]>;
}

export const MAX_CHARTS = 3;
export const MAX_CHART_POINTS = 300;
const BEFORE_MS = 30 * 60_000;
const AFTER_MS = 10 * 60_000;
/** a trigger or resolution further than this from the onset is not worth squeezing every point */
const MAX_REACH_MS = 24 * 3600_000;

/** One chart per leading metric (distinct series, in report order), from onset − 30 min to recovery + 10 min,
 * widened to show when the trigger went live and when the incident was resolved. */
export function metricCharts(analysis: Analysis, report: Report, maxCharts = MAX_CHARTS): MetricChart[] {
  const spikes = orderedSpikes(analysis.signals);
  const triggerMs = triggerFinishedMs(report);
  const resolvedMs = report.incident.resolved_at ? parseIsoMs(report.incident.resolved_at) : null;
  const charts: MetricChart[] = [];
  const seen = new Set<string>();
  spikes.forEach((s, index) => {
    const key = `${s.metric}\u0000${s.scope}`;
    if (charts.length >= maxCharts || seen.has(key)) return;
    const series = analysis.facts.series.find((x) => x.metric === s.metric && x.scope === s.scope);
    if (!series) return;
    seen.add(key);
    const sorted = series.points.filter((p) => Number.isFinite(p[0])).sort((a, b) => a[0] - b[0]);
    const lastMs = sorted.length ? sorted[sorted.length - 1]![0] : s.onsetMs;
    let from = s.onsetMs;
    if (triggerMs !== null && triggerMs < from && s.onsetMs - triggerMs <= MAX_REACH_MS) from = triggerMs;
    let to = s.recoveredAtMs ?? Math.max(lastMs, s.onsetMs);
    if (resolvedMs !== null && resolvedMs > to && resolvedMs - s.onsetMs <= MAX_REACH_MS) to = resolvedMs;
    from -= BEFORE_MS;
    to += AFTER_MS;
    const inWindow = sorted.filter((p) => p[0] >= from && p[0] <= to);
    charts.push({ spike: index, from_ms: from, to_ms: to, points: downsample(inWindow, MAX_CHART_POINTS) });
  });
  return charts;
}

/** When the trigger went live: its candidate's finished_at. */
export function triggerFinishedMs(report: Report): number | null {
  const t = report.trigger;
  if (!t) return null;
  const c =
    report.candidates.find(
      (x) =>
        x.kind === t.kind &&
        x.repo === t.repo &&
        x.deployment_id === t.deployment_id &&
        (x.change_event_id ?? null) === (t.change_event_id ?? null),
    ) ?? report.candidates.find((x) => x.role === 'trigger');
  return c?.finished_at ? parseIsoMs(c.finished_at) : null;
}

/** Keeps the lowest and highest point of each time bucket, so peaks survive; an all-null bucket stays a gap. */
export function downsample(points: Array<[number, number | null]>, max: number): Array<[number, number | null]> {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 2));
  const t0 = points[0]![0];
  const span = points[points.length - 1]![0] - t0 || 1;
  const out: Array<[number, number | null]> = [];
  let i = 0;
  for (let b = 0; b < buckets; b++) {
    const end = b === buckets - 1 ? Infinity : t0 + ((b + 1) * span) / buckets;
    let lo: [number, number] | null = null;
    let hi: [number, number] | null = null;
    let gap: number | null = null;
    for (; i < points.length && points[i]![0] < end; i++) {
      const [t, v] = points[i]!;
      if (v === null || !Number.isFinite(v)) {
        gap ??= t;
        continue;
      }
      if (!lo || v < lo[1]) lo = [t, v];
      if (!hi || v > hi[1]) hi = [t, v];
    }
    if (lo && hi) {
      if (lo[0] === hi[0]) out.push(lo);
      else out.push(...((lo[0] < hi[0] ? [lo, hi] : [hi, lo]) as Array<[number, number]>));
    } else if (gap !== null) out.push([gap, null]);
  }
  return out;
}
