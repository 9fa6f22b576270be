// The main chart as a PNG, without a browser: the standalone SVG of core/html.ts rasterised by
// resvg (native, so it lives here and not in core/).
//
// Fonts. resvg draws no text without a font and does not use fontconfig, so the font is loaded
// explicitly: HINDSIGHT_CHART_FONT (a .ttf/.otf path) if set, else the first of a few well-known
// sans-serif files that exists (DejaVu Sans, Liberation Sans, Arial on macOS and Windows), else
// whatever resvg finds in the system font directories. With no font at all the chart's lines are
// still drawn and `font` is null, so callers can say the labels are missing.
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { analyzeBundle, type Analysis } from '../core/analyze.js';
import type { Bundle } from '../core/bundle.js';
import { metricCharts, type MetricChart } from '../core/charts.js';
import { renderChartSvg, renderHtml } from '../core/html.js';
import type { Report } from '../core/report.js';

/** Pixels per SVG unit: 2 keeps lines and labels sharp on high-density screens. */
export const PNG_SCALE = 2;

const KNOWN_FONTS: Array<{ path: string; bold: string; family: string }> = [
  { path: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', family: 'DejaVu Sans' },
  { path: '/usr/share/fonts/TTF/DejaVuSans.ttf', bold: '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf', family: 'DejaVu Sans' },
  { path: '/usr/share/fonts/dejavu/DejaVuSans.ttf', bold: '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf', family: 'DejaVu Sans' },
  { path: '/usr/share/fonts/ttf-dejavu/DejaVuSans.ttf', bold: '/usr/share/fonts/ttf-dejavu/DejaVuSans-Bold.ttf', family: 'DejaVu Sans' },
  { path: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', bold: '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf', family: 'Liberation Sans' },
  { path: '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf', bold: '/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf', family: 'Liberation Sans' },
  { path: '/System/Library/Fonts/Supplemental/Arial.ttf', bold: '/System/Library/Fonts/Supplemental/Arial Bold.ttf', family: 'Arial' },
  { path: '/Library/Fonts/Arial.ttf', bold: '/Library/Fonts/Arial Bold.ttf', family: 'Arial' },
  { path: 'C:\\Windows\\Fonts\\arial.ttf', bold: 'C:\\Windows\\Fonts\\arialbd.ttf', family: 'Arial' },
];

export interface ChartFont {
  /** the font files loaded (regular, and bold when there is one) */
  files: string[];
  /** the family name resvg uses for generic and unknown families; null when it is read from the file */
  family: string | null;
}

/** The font files the chart's text is drawn with, or null when none of the known ones exists. */
export function chartFont(env: NodeJS.ProcessEnv = process.env): ChartFont | null {
  const configured = env.HINDSIGHT_CHART_FONT?.trim();
  if (configured && existsSync(configured)) return { files: [configured], family: null };
  const known = KNOWN_FONTS.find((f) => existsSync(f.path));
  return known ? { files: existsSync(known.bold) ? [known.path, known.bold] : [known.path], family: known.family } : null;
}

export interface ChartPng {
  png: Buffer;
  width: number;
  height: number;
  /** pixels per SVG unit; an SVG x maps to x × scale in the image */
  scale: number;
  /** the font file the labels were drawn with; null: resvg's own search of the system fonts */
  font: ChartFont | null;
}

/** Rasterises a standalone SVG at `scale` pixels per unit. */
export function svgToPng(svg: string, opts: { scale?: number; font?: ChartFont | null } = {}): ChartPng {
  const scale = opts.scale ?? PNG_SCALE;
  const font = opts.font === undefined ? chartFont() : opts.font;
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: font
      ? { loadSystemFonts: false, fontFiles: font.files, ...(font.family ? { defaultFontFamily: font.family, sansSerifFamily: font.family } : {}) }
      : { loadSystemFonts: true },
    logLevel: 'off',
  });
  const image = resvg.render();
  return { png: image.asPng(), width: image.width, height: image.height, scale, font };
}

/** One chart of the report as a PNG. */
export function renderChartPng(report: Report, chart: MetricChart, opts: { scale?: number; font?: ChartFont | null } = {}): ChartPng {
  return svgToPng(renderChartSvg(report, chart), opts);
}

/** The first (leading) metric chart as a PNG, or null when the report has no metric change point to draw. */
export function mainChartPng(analysis: Analysis, report: Report, opts: { scale?: number; font?: ChartFont | null } = {}): ChartPng | null {
  const chart = metricCharts(analysis, report, 1)[0];
  return chart && report.spikes[chart.spike] ? renderChartPng(report, chart, opts) : null;
}

/**
 * What the review thread shows besides the Markdown: the HTML report and the main chart as a PNG.
 * A rasteriser failure (e.g. the native module cannot load on this platform) costs only the PNG.
 */
export function reviewVisuals(analysis: Analysis, report: Report, log: (message: string) => void = () => {}): { html: string; chartPng: Buffer | null } {
  let chartPng: Buffer | null = null;
  try {
    chartPng = mainChartPng(analysis, report)?.png ?? null;
  } catch (err) {
    log(`chart PNG not rendered: ${(err as Error).message.split('\n')[0]!.slice(0, 200)}`);
  }
  return { html: renderHtml(report, metricCharts(analysis, report)), chartPng };
}

/** reviewVisuals from the stored bundle (the analysis is run again; the report may be the LLM's). */
export function reviewVisualsOfBundle(bundle: Bundle, report: Report, log: (message: string) => void = () => {}): { html: string; chartPng: Buffer | null } {
  return reviewVisuals(analyzeBundle(bundle), report, log);
}
