// Scores the built engine (dist/) on generated incident families: per family, how often the right
// trigger is named, how often a change is blamed wrongly, whether latent defects are named, onset
// hits and leaks. Run with `npm run eval:families` (builds first; runs through vite-node).
//
//   --seeds A..B     one custom seed range instead of the dev and held-out ranges
//   --range dev|held-out|both   which standard ranges (default both)
//   --family NAME    only this family (every seed in the range renders it)
//   --json | --markdown          machine-readable or docs/accuracy.md table output
//   --dump DIR       write DIR/<family>-<seed>/{bundle,expected}.json for inspection
//   --failures       list each wrong decision (dev and custom seeds only: held-out stays unseen)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as AnalyzeModule from '../src/core/analyze.js';
import type * as BundleModule from '../src/core/bundle.js';
import type * as MarkdownModule from '../src/core/markdown.js';
import type * as ScoreModule from '../src/eval/scoreReport.js';
import { DEV_SEEDS, FAMILY_NAMES, generateIncident, HELD_OUT_SEEDS, NO_CHANGE_FAMILIES } from '../test/families/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = <T>(rel: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', rel)).href) as Promise<T>;

interface Options {
  ranges: Array<{ name: string; from: number; to: number }>;
  family: string | null;
  format: 'text' | 'json' | 'markdown';
  dump: string | null;
  failures: boolean;
}

function fail(message: string): never {
  process.stderr.write(`eval-families: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { ranges: [], family: null, format: 'text', dump: null, failures: false };
  let range = 'both';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === '--json') o.format = 'json';
    else if (a === '--markdown') o.format = 'markdown';
    else if (a === '--failures') o.failures = true;
    else if (a === '--family') o.family = value();
    else if (a === '--dump') o.dump = value();
    else if (a === '--range') range = value();
    else if (a === '--seeds') {
      const m = /^(\d+)\.\.(\d+)$/.exec(value());
      if (!m || Number(m[1]) > Number(m[2])) fail('--seeds expects A..B with A <= B, e.g. --seeds 1..50');
      o.ranges.push({ name: `seeds ${m[1]}..${m[2]}`, from: Number(m[1]), to: Number(m[2]) });
    } else fail(`unknown option ${a}`);
  }
  if (o.family !== null && !FAMILY_NAMES.includes(o.family)) fail(`unknown family ${o.family} (known: ${FAMILY_NAMES.join(', ')})`);
  if (!o.ranges.length) {
    if (range !== 'held-out' && range !== 'both' && range !== 'dev') fail('--range expects dev, held-out or both');
    if (range !== 'held-out') o.ranges.push({ name: 'dev', ...DEV_SEEDS });
    if (range !== 'dev') o.ranges.push({ name: 'held-out', ...HELD_OUT_SEEDS });
  }
  return o;
}

interface Row {
  family: string;
  n: number;
  top1: number;
  falseBlame: number;
  latentNamed: number;
  latentTotal: number;
  onsetHit: number;
  onsetTotal: number;
  rootCause: number;
  leaks: number;
}

const emptyRow = (family: string): Row => ({ family, n: 0, top1: 0, falseBlame: 0, latentNamed: 0, latentTotal: 0, onsetHit: 0, onsetTotal: 0, rootCause: 0, leaks: 0 });

function add(into: Row, r: Row): void {
  for (const k of ['n', 'top1', 'falseBlame', 'latentNamed', 'latentTotal', 'onsetHit', 'onsetTotal', 'rootCause', 'leaks'] as const) into[k] += r[k];
}

const pct = (a: number, b: number) => (b === 0 ? '-' : `${a}/${b} (${Math.round((100 * a) / b)}%)`);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const { postmortem } = await load<typeof AnalyzeModule>('core/analyze.js');
  const { validateBundle } = await load<typeof BundleModule>('core/bundle.js');
  const { renderMarkdown } = await load<typeof MarkdownModule>('core/markdown.js');
  const { score, describeNamed } = await load<typeof ScoreModule>('eval/scoreReport.js');
  const started = performance.now();
  const results: Array<{ range: string; rows: Row[]; total: Row; changeFamilies: Row; noChangeFamilies: Row; failures: string[] }> = [];
  for (const range of o.ranges) {
    const rows = new Map<string, Row>();
    const failures: string[] = [];
    const showFailures = range.name !== 'held-out';
    for (let seed = range.from; seed <= range.to; seed++) {
      const g = o.family ? generateIncident(seed, o.family) : generateIncident(seed);
      if (o.dump) {
        const dir = join(o.dump, `${g.family.replace('/', '-')}-${seed}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'bundle.json'), JSON.stringify(g.bundle, null, 1));
        writeFileSync(join(dir, 'expected.json'), JSON.stringify(g.expected, null, 2));
      }
      const row = rows.get(g.family) ?? emptyRow(g.family);
      rows.set(g.family, row);
      row.n++;
      let report;
      try {
        report = postmortem(validateBundle(JSON.parse(JSON.stringify(g.bundle))));
      } catch (err) {
        failures.push(`${g.family} seed ${seed}: engine threw ${(err as Error).message}`);
        continue;
      }
      const { checks, decision } = score(report, renderMarkdown(report), g.expected);
      if (decision.trigger_right) row.top1++;
      if (decision.false_blame) row.falseBlame++;
      if (decision.latent_named !== null) {
        row.latentTotal++;
        if (decision.latent_named) row.latentNamed++;
      }
      if (decision.onset_hit !== null) {
        row.onsetTotal++;
        if (decision.onset_hit) row.onsetHit++;
      }
      if (checks.find((c) => c.name === 'root_cause_terms')?.pass) row.rootCause++;
      row.leaks += decision.leaks;
      if (showFailures && (!decision.trigger_right || decision.latent_named === false || decision.leaks > 0)) {
        const t = g.expected.trigger;
        const want = t === null ? 'null' : 'change_event_id' in t ? `change event ${t.change_event_id}` : `${t.repo}@${t.sha.slice(0, 10)}`;
        const what = [!decision.trigger_right ? `trigger: expected ${want}, got ${describeNamed(report.trigger)}` : '', decision.latent_named === false ? 'latent defect not named' : '', decision.leaks ? `${decision.leaks} leaked` : ''].filter(Boolean).join('; ');
        failures.push(`${g.family} seed ${seed}: ${what}`);
      }
    }
    const ordered = FAMILY_NAMES.filter((f) => rows.has(f)).map((f) => rows.get(f)!);
    const total = emptyRow('all');
    const changeFamilies = emptyRow('change families');
    const noChangeFamilies = emptyRow('no-change families');
    for (const r of ordered) {
      add(total, r);
      add(NO_CHANGE_FAMILIES.has(r.family) ? noChangeFamilies : changeFamilies, r);
    }
    results.push({ range: range.name, rows: ordered, total, changeFamilies, noChangeFamilies, failures });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  if (o.format === 'json') {
    process.stdout.write(JSON.stringify({ seconds: Number(seconds), ranges: o.ranges, results: results.map((r) => (r.range === 'held-out' ? { ...r, failures: undefined } : r)) }, null, 2) + '\n');
    return;
  }
  const header = ['family', 'n', 'top-1 trigger', 'false blame', 'latent named', 'onset hit', 'root cause terms', 'leaks'];
  const cells = (r: Row) => [r.family, String(r.n), pct(r.top1, r.n), String(r.falseBlame), pct(r.latentNamed, r.latentTotal), pct(r.onsetHit, r.onsetTotal), pct(r.rootCause, r.n), String(r.leaks)];
  for (const res of results) {
    const range = o.ranges.find((x) => x.name === res.range)!;
    const title = `${res.range} (seeds ${range.from}..${range.to}${o.family ? `, family ${o.family}` : ''})`;
    const lines = [...res.rows, res.changeFamilies, res.noChangeFamilies, res.total].map(cells);
    if (o.format === 'markdown') {
      process.stdout.write(`\n**${title}**\n\n| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|\n`);
      for (const l of lines) process.stdout.write(`| ${l.join(' | ')} |\n`);
    } else {
      const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
      const fmt = (l: string[]) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      process.stdout.write(`\n== ${title}\n${fmt(header)}\n`);
      lines.forEach((l, i) => {
        if (i === res.rows.length) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
        process.stdout.write(`${fmt(l)}\n`);
      });
    }
    if (o.failures && res.failures.length) {
      process.stdout.write(`\nwrong decisions (${res.failures.length}):\n${res.failures.map((f) => `  ${f}`).join('\n')}\n`);
    }
  }
  process.stdout.write(`\n${results.reduce((n, r) => n + r.total.n, 0)} incidents in ${seconds}s\n`);
}

main().catch((err) => {
  process.stderr.write(`eval-families: ${(err as Error).message}\n`);
  process.exit(1);
});
