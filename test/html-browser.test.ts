// The HTML report in a real browser: headless Chromium (Debian's package) renders the page and the
// screenshot shows the trigger line where the trigger went live, measured against the chart's frame.
// CI installs Chromium and sets HINDSIGHT_REQUIRE_BROWSER=1; elsewhere the suite is skipped without it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { metricCharts, triggerFinishedMs } from '../src/core/charts.js';
import { renderHtml } from '../src/core/html.js';
import { loadBundleFile } from '../src/io/bundleLoader.js';
import { readPng, type Image } from './helpers/png.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.HINDSIGHT_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.HINDSIGHT_REQUIRE_BROWSER === '1') throw new Error(`HINDSIGHT_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}`);

const WIDTH = 1000;
const HEIGHT = 3200;
const work = mkdtempSync(join(tmpdir(), 'hindsight-html-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function screenshot(name: string, html: string): Image {
  const page = join(work, `${name}.html`);
  const png = join(work, `${name}.png`);
  writeFileSync(page, html);
  execFileSync(
    CHROMIUM,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--force-device-scale-factor=1',
      `--user-data-dir=${join(work, `profile-${name}`)}`, `--window-size=${WIDTH},${HEIGHT}`, `--screenshot=${png}`, `file://${page}`,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
  return readPng(readFileSync(png));
}

type Rgb = [number, number, number, number];
// the plot frame (#aab3bf, lightened where anti-aliased) and the trigger line (#d1242f)
const isFrame = ([r, g, b]: Rgb) => Math.max(r, g, b) < 225 && b >= r && b - r < 40 && Math.abs(r - g) < 20;
const isTrigger = ([r, g, b]: Rgb) => r > 170 && g < 70 && b > 20 && b < 100;

/** Columns holding an unbroken vertical run of at least minRun matching pixels: x -> [top, bottom]. */
function tallRuns(img: Image, match: (p: Rgb) => boolean, minRun: number, yFrom = 0, yTo = img.height): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (let x = 0; x < img.width; x++) {
    let start = -1;
    for (let y = yFrom; y <= yTo; y++) {
      const hit = y < yTo && match(img.pixel(x, y));
      if (hit && start < 0) start = y;
      if (!hit && start >= 0) {
        if (y - start >= minRun && !out.has(x)) out.set(x, [start, y - 1]);
        start = -1;
      }
    }
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Where the first chart's trigger line is, and where it should be from the chart's frame and time window. */
function measure(name: string, dir: string) {
  const loaded = loadBundleFile(join(dir, 'bundle.json'));
  const analysis = analyzeBundle(loaded.bundle, loaded.logs);
  const report = buildReport(analysis);
  const charts = metricCharts(analysis, report);
  const img = screenshot(name, renderHtml(report, charts));
  const frame = tallRuns(img, isFrame, 120);
  expect(frame.size, 'chart frame found').toBeGreaterThanOrEqual(2);
  // the first chart: the frame columns whose run starts highest on the page
  const top = Math.min(...[...frame.values()].map(([t]) => t));
  const cols = [...frame.entries()].filter(([, [t]]) => Math.abs(t - top) <= 3).map(([x]) => x).sort((a, b) => a - b);
  const [, bottom] = frame.get(cols[0]!)!;
  const left = mean(cols.filter((x) => x - cols[0]! <= 2));
  const right = mean(cols.filter((x) => cols[cols.length - 1]! - x <= 2));
  const red = [...tallRuns(img, isTrigger, 100, top, bottom + 1).keys()];
  const finished = triggerFinishedMs(report);
  const expected = finished === null ? null : left + ((finished - charts[0]!.from_ms) / (charts[0]!.to_ms - charts[0]!.from_ms)) * (right - left);
  return { red, expected, left, right };
}

const triggered: Array<[string, string]> = [['sample-incident', join(ROOT, 'examples', 'sample-incident')]];
const none: Array<[string, string]> = [];
for (const set of ['outages', 'outages-2']) {
  const base = join(ROOT, 'test', set);
  if (!existsSync(base)) continue;
  for (const d of readdirSync(base).sort()) {
    const dir = join(base, d);
    if (!existsSync(join(dir, 'bundle.json'))) continue;
    const loaded = loadBundleFile(join(dir, 'bundle.json'));
    const analysis = analyzeBundle(loaded.bundle, loaded.logs);
    const report = buildReport(analysis);
    const chart = metricCharts(analysis, report)[0];
    const ms = triggerFinishedMs(report);
    if (!chart) continue;
    if (ms !== null && ms >= chart.from_ms && ms <= chart.to_ms) triggered.push([`${set}-${d}`, dir]);
    else if (!report.trigger) none.push([`${set}-${d}`, dir]);
  }
}

describe.skipIf(!available)('HTML report in headless Chromium', () => {
  it.each(triggered)('%s: the trigger line is drawn where the trigger went live', (name, dir) => {
    const { red, expected, left, right } = measure(name, dir);
    expect(right - left).toBeGreaterThan(500);
    expect(red.length, 'trigger line visible').toBeGreaterThanOrEqual(1);
    expect(Math.abs(mean(red) - expected!)).toBeLessThanOrEqual(3);
  });

  it.each(none.slice(0, 3))('%s: no trigger line when no change triggered it', (name, dir) => {
    expect(measure(name, dir).red).toEqual([]);
  });
});
