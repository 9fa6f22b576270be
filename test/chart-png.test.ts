// The main chart as a PNG (resvg, no browser): a real image of the expected size, not blank, with
// its labels drawn, and the trigger line where the trigger went live — measured on the decoded
// pixels against the chart geometry the SVG uses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { metricCharts, triggerFinishedMs } from '../src/core/charts.js';
import { CHART, PALETTE, renderChartSvg, STANDALONE_CHART } from '../src/core/html.js';
import { loadBundleFile } from '../src/io/bundleLoader.js';
import { chartFont, mainChartPng, renderChartPng, svgToPng, PNG_SCALE } from '../src/review/chartPng.js';
import { readPng, type Image } from './helpers/png.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = join(ROOT, 'examples', 'sample-incident');
const PLOT_WIDTH = CHART.width - CHART.left - CHART.right;
const PLOT_HEIGHT = CHART.height - CHART.top - CHART.bottom;

function load(dir: string) {
  const loaded = loadBundleFile(join(dir, 'bundle.json'));
  const analysis = analyzeBundle(loaded.bundle, loaded.logs);
  return { analysis, report: buildReport(analysis) };
}

type Rgba = [number, number, number, number];
const hex = (h: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
const TRIGGER = hex(PALETTE.trigger);
const near = (p: Rgba, c: [number, number, number], tol: number) => Math.abs(p[0] - c[0]) <= tol && Math.abs(p[1] - c[1]) <= tol && Math.abs(p[2] - c[2]) <= tol;
const isTrigger = (p: Rgba) => near(p, TRIGGER, 24);

/** The plot's rows in the image (the chart is drawn below the standalone header). */
function plotRows(scale: number): [number, number] {
  return [Math.round((STANDALONE_CHART.header + CHART.top) * scale), Math.round((STANDALONE_CHART.header + CHART.top + PLOT_HEIGHT) * scale)];
}

/** Columns where matching pixels run unbroken over at least `share` of the plot's height. */
function tallColumns(img: Image, match: (p: Rgba) => boolean, scale: number, share = 0.8): number[] {
  const [top, bottom] = plotRows(scale);
  const need = (bottom - top) * share;
  const out: number[] = [];
  for (let x = 0; x < img.width; x++) {
    let run = 0;
    let best = 0;
    for (let y = top; y < bottom; y++) {
      run = match(img.pixel(x, y)) ? run + 1 : 0;
      best = Math.max(best, run);
    }
    if (best >= need) out.push(x);
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Where the trigger line should be in the image: the SVG's own x mapping, times the scale. */
function expectedTriggerX(chart: { from_ms: number; to_ms: number }, finishedMs: number, scale: number): number {
  return (CHART.left + ((finishedMs - chart.from_ms) / (chart.to_ms - chart.from_ms)) * PLOT_WIDTH) * scale;
}

describe('chart PNG', () => {
  const { analysis, report } = load(SAMPLE);
  const chart = mainChartPng(analysis, report)!;

  it('is a PNG of the chart size at the scale it reports, decodable', () => {
    expect(chart).not.toBeNull();
    expect([...chart.png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(chart.png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(chart.png.readUInt32BE(16)).toBe(CHART.width * PNG_SCALE);
    expect(chart.png.readUInt32BE(20)).toBe(STANDALONE_CHART.height * PNG_SCALE);
    const img = readPng(chart.png);
    expect([img.width, img.height]).toEqual([chart.width, chart.height]);
  });

  it('is not blank: a white background with many colours drawn on it', () => {
    const img = readPng(chart.png);
    const colours = new Set<number>();
    let ink = 0;
    for (let y = 0; y < img.height; y += 2) {
      for (let x = 0; x < img.width; x += 2) {
        const [r, g, b] = img.pixel(x, y);
        colours.add((r << 16) | (g << 8) | b);
        if (r + g + b < 600) ink++;
      }
    }
    expect(img.pixel(1, 1).slice(0, 3)).toEqual([255, 255, 255]);
    expect(colours.size).toBeGreaterThan(50);
    const share = ink / ((img.width / 2) * (img.height / 2));
    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.5);
  });

  it('draws the series in the accent colour inside the plot', () => {
    const img = readPng(chart.png);
    const accent = hex(PALETTE.accent);
    const [top, bottom] = plotRows(chart.scale);
    let hits = 0;
    for (let y = top; y < bottom; y += 2) for (let x = 0; x < img.width; x += 2) if (near(img.pixel(x, y), accent, 30)) hits++;
    expect(hits).toBeGreaterThan(500);
  });

  it.skipIf(!chartFont())('draws its text: the title rows hold glyphs, and are empty when the text elements are left out', () => {
    const titleInk = (png: Buffer) => {
      const img = readPng(png);
      let n = 0;
      for (let y = 0; y < STANDALONE_CHART.header * PNG_SCALE; y++) for (let x = 0; x < img.width; x++) if (img.pixel(x, y)[0] < 140) n++;
      return n;
    };
    expect(chart.font).not.toBeNull();
    const svg = renderChartSvg(report, metricCharts(analysis, report, 1)[0]!);
    expect(titleInk(svgToPng(svg).png)).toBeGreaterThan(1000);
    expect(titleInk(svgToPng(svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, '')).png)).toBe(0);
  });

  it('puts the trigger line where the trigger deploy finished (from the SVG geometry)', () => {
    const finished = triggerFinishedMs(report);
    expect(finished).not.toBeNull();
    const charted = metricCharts(analysis, report, 1)[0]!;
    const img = readPng(chart.png);
    const red = tallColumns(img, isTrigger, chart.scale);
    expect(red.length, 'trigger line visible').toBeGreaterThanOrEqual(2);
    expect(Math.max(...red) - Math.min(...red)).toBeLessThanOrEqual(4 * chart.scale); // one line, ~3 units wide
    expect(Math.abs(mean(red) - expectedTriggerX(charted, finished!, chart.scale))).toBeLessThanOrEqual(1.5 * chart.scale);
  });

  it('follows the scale: at 1 px per unit the line is at the unscaled x', () => {
    const charted = metricCharts(analysis, report, 1)[0]!;
    const small = renderChartPng(report, charted, { scale: 1 });
    expect([small.width, small.height]).toEqual([CHART.width, STANDALONE_CHART.height]);
    const red = tallColumns(readPng(small.png), isTrigger, 1);
    expect(Math.abs(mean(red) - expectedTriggerX(charted, triggerFinishedMs(report)!, 1))).toBeLessThanOrEqual(1.5);
  });
});

// Every rebuilt outage whose trigger went live inside its first chart's window, and a few without a trigger.
const triggered: Array<[string, string]> = [];
const none: Array<[string, string]> = [];
for (const set of ['outages', 'outages-2', 'outages-3', 'outages-4']) {
  const base = join(ROOT, 'test', set);
  if (!existsSync(base)) continue;
  for (const d of readdirSync(base).sort()) {
    const dir = join(base, d);
    if (!existsSync(join(dir, 'bundle.json'))) continue;
    const { analysis, report } = load(dir);
    const chart = metricCharts(analysis, report, 1)[0];
    const ms = triggerFinishedMs(report);
    if (!chart) continue;
    if (ms !== null && ms >= chart.from_ms && ms <= chart.to_ms) triggered.push([`${set}/${d}`, dir]);
    else if (!report.trigger) none.push([`${set}/${d}`, dir]);
  }
}

describe('chart PNG of the rebuilt outages', () => {
  it('has incidents of both kinds to check', () => {
    expect(triggered.length).toBeGreaterThanOrEqual(5);
    expect(none.length).toBeGreaterThanOrEqual(1);
  });

  it.each(triggered)('%s: the trigger line is where the trigger went live', (_name, dir) => {
    const { analysis, report } = load(dir);
    const png = mainChartPng(analysis, report)!;
    const red = tallColumns(readPng(png.png), isTrigger, png.scale);
    expect(red.length, 'trigger line visible').toBeGreaterThanOrEqual(1);
    const expected = expectedTriggerX(metricCharts(analysis, report, 1)[0]!, triggerFinishedMs(report)!, png.scale);
    expect(Math.abs(mean(red) - expected)).toBeLessThanOrEqual(1.5 * png.scale);
  });

  it.each(none.slice(0, 4))('%s: no trigger line when no change triggered it', (_name, dir) => {
    const { analysis, report } = load(dir);
    const png = mainChartPng(analysis, report)!;
    expect(tallColumns(readPng(png.png), isTrigger, png.scale)).toEqual([]);
  });
});

const CLI = join(ROOT, 'dist', 'cli.js');
const work = mkdtempSync(join(tmpdir(), 'hindsight-png-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!existsSync(CLI))('hindsight postmortem --format png', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, HINDSIGHT_HOME: join(work, 'home') } });

  it('writes the chart PNG to --out', () => {
    const out = join(work, 'chart.png');
    const r = run(['postmortem', '--bundle', join(SAMPLE, 'bundle.json'), '--format', 'png', '--out', out, '--no-store']);
    expect(r.status, r.stderr).toBe(0);
    const img = readPng(readFileSync(out));
    expect([img.width, img.height]).toEqual([CHART.width * PNG_SCALE, STANDALONE_CHART.height * PNG_SCALE]);
  });

  it('refuses to write an image to the terminal: one line, exit 2', () => {
    const r = run(['postmortem', '--bundle', join(SAMPLE, 'bundle.json'), '--format', 'png', '--no-store']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--format png needs --out/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
