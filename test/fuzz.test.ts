// Mutation fuzzing of the bundle reader: the repository's own bundles, each with one element made
// malformed (a seeded PRNG picks the element and the damage). Every bundle must either give a
// report or, only when a field no analysis can do without was damaged, be rejected with one line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle } from '../src/core/bundle.js';
import { renderMarkdown } from '../src/core/markdown.js';
import { loadBundleFile } from '../src/io/bundleLoader.js';
import { InputError } from '../src/io/files.js';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const BASES = [
  'examples/sample-incident/bundle.json',
  'test/fixtures/no-trigger-cert-expiry/bundle.json',
  'test/fixtures/prompt-injection/bundle.json',
  'test/fixtures/secrets-and-names/bundle.json',
].map((p) => JSON.parse(readFileSync(join(ROOT, p), 'utf8')) as Json);
const COUNT = 160;
/** every REQUIRED_EVERY-th bundle damages incident.id, incident.created_at, incident or bundle_version */
const REQUIRED_EVERY = 16;

type Json = any;
type Path = Array<string | number>;

/** sfc32: small, seedable, the same sequence on every platform. */
function prng(seed: number) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}
type Rng = ReturnType<typeof prng>;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Where the elements of each kind are in a bundle. */
const ELEMENTS: Record<string, (b: Json) => Path[]> = {
  'metric point': (b) => list(b.sources?.datadog?.metrics).flatMap((m: Json, i) => list(m.pointlist).map((_, j): Path => ['sources', 'datadog', 'metrics', i, 'pointlist', j])),
  'log line': (b) => list(b.sources?.logs).map((_, i): Path => ['sources', 'logs', i]),
  'Slack message': (b) => list(b.sources?.slack?.messages).map((_, i): Path => ['sources', 'slack', 'messages', i]),
  'deployment status': (b) =>
    list(b.sources?.github?.repos).flatMap((r: Json, i) => list(r.deployments).flatMap((d: Json, j) => list(d.statuses).map((_, k): Path => ['sources', 'github', 'repos', i, 'deployments', j, 'statuses', k]))),
  'commit file': (b) =>
    list(b.sources?.github?.repos).flatMap((r: Json, i) => list(r.commits).flatMap((c: Json, j) => list(c.files).map((_, k): Path => ['sources', 'github', 'repos', i, 'commits', j, 'files', k]))),
  deployment: (b) => list(b.sources?.github?.repos).flatMap((r: Json, i) => list(r.deployments).map((_, j): Path => ['sources', 'github', 'repos', i, 'deployments', j])),
  commit: (b) => list(b.sources?.github?.repos).flatMap((r: Json, i) => list(r.commits).map((_, j): Path => ['sources', 'github', 'repos', i, 'commits', j])),
  'PagerDuty log entry': (b) => list(b.sources?.pagerduty?.log_entries).map((_, i): Path => ['sources', 'pagerduty', 'log_entries', i]),
  'PagerDuty alert': (b) => list(b.sources?.pagerduty?.alerts).map((_, i): Path => ['sources', 'pagerduty', 'alerts', i]),
  'Datadog event': (b) => list(b.sources?.datadog?.events).map((_, i): Path => ['sources', 'datadog', 'events', i]),
  'metric series': (b) => list(b.sources?.datadog?.metrics).map((_, i): Path => ['sources', 'datadog', 'metrics', i]),
  'optional incident field': () => ['title', 'service', 'severity', 'status', 'acknowledged_at', 'resolved_at', 'url'].map((k): Path => ['incident', k]),
};
const REQUIRED: Path[] = [['incident', 'id'], ['incident', 'created_at'], ['incident'], ['bundle_version']];

const DAMAGE: Record<string, () => unknown> = {
  'a number': () => 12345,
  'a string': () => 'garbage',
  'a boolean': () => true,
  null: () => null,
  'a garbage time': () => '2024-13-45T99:99:99Z',
  'a word for a time': () => 'yesterday',
  'an empty string': () => '',
  'a nested array': () => [[[1, 'x']]],
  'a huge number': () => 1e308,
  'a negative huge number': () => -1e308,
  'a stray object': () => ({ nested: { deeper: [null] } }),
  'a long string': () => 'x'.repeat(20_000),
  missing: () => undefined,
};

const TIME_KEYS = new Set<string | number>(['created_at', 'ts', 'timestamp', 'date_happened', 'createdAt', 'beginTimeSeconds', 0]);

function damage(b: Json, path: Path, how: string): void {
  const parent = path.slice(0, -1).reduce((o, k) => o[k], b);
  const key = path[path.length - 1]!;
  if (how === 'missing') {
    if (Array.isArray(parent)) parent[key as number] = undefined; // JSON.stringify writes null
    else delete parent[key];
  } else parent[key] = DAMAGE[how]!();
}

interface Mutant {
  n: number;
  what: string;
  path: Path;
  how: string;
  requiredDamaged: boolean;
  json: string;
}

function requiredStillValid(b: Json): boolean {
  const inc = b.incident;
  if (b.bundle_version !== 1 || inc === null || typeof inc !== 'object' || Array.isArray(inc)) return false;
  return typeof inc.id === 'string' && inc.id !== '' && typeof inc.created_at === 'string' && !Number.isNaN(Date.parse(inc.created_at));
}

function mutants(): Mutant[] {
  const rng = prng(0x5eed);
  const kinds = Object.keys(ELEMENTS);
  const out: Mutant[] = [];
  for (let n = 0; n < COUNT; n++) {
    const b = structuredClone(BASES[n % BASES.length]);
    const how = rng.pick(Object.keys(DAMAGE));
    let what: string;
    let path: Path;
    if (n % REQUIRED_EVERY === REQUIRED_EVERY - 1) {
      what = 'required field';
      path = rng.pick(REQUIRED);
    } else {
      const candidates = kinds.filter((k) => ELEMENTS[k]!(b).length > 0);
      what = rng.pick(candidates);
      path = rng.pick(ELEMENTS[what]!(b));
      // half the time the element itself, else one of its fields (or a point's time or value)
      const element = path.reduce((o: Json, k) => o[k], b);
      if (what !== 'optional incident field' && rng.int(2) === 1 && element && typeof element === 'object') {
        const keys: Array<string | number> = Array.isArray(element) ? element.map((_, i) => i) : Object.keys(element);
        // times are where vendors differ most: damage one half the time when the element has one
        const times = keys.filter((k) => TIME_KEYS.has(k));
        if (keys.length) path = [...path, times.length && rng.int(2) === 1 ? rng.pick(times) : rng.pick(keys)];
      }
    }
    damage(b, path, how);
    out.push({ n, what, path, how, requiredDamaged: !requiredStillValid(b), json: JSON.stringify(b) });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'hs-fuzz-'));
const all = mutants();

describe(`fuzz: ${COUNT} mutated bundles from ${BASES.length} bundles of the repository`, () => {
  const outcome = new Map<number, { kind: 'report' | 'rejected' | 'crash'; detail: string; problems: number }>();

  beforeAll(() => {
    for (const m of all) {
      const file = join(dir, `m${m.n}.json`);
      writeFileSync(file, m.json);
      try {
        const loaded = loadBundleFile(file);
        const report = buildReport(analyzeBundle(loaded.bundle, loaded.logs));
        const markdown = renderMarkdown(report);
        const problems = loaded.skipped.total + (loaded.logs.skipped?.total ?? 0);
        validateBundle(loaded.bundle);
        if (problems > 0 && !(report.data_gaps.some((g) => g.includes(' as malformed: ')) && markdown.includes('## What this analysis could not see'))) {
          throw new Error('problems found but not listed in the report');
        }
        outcome.set(m.n, { kind: 'report', detail: '', problems });
      } catch (err) {
        const kind = err instanceof InputError ? 'rejected' : 'crash';
        outcome.set(m.n, { kind, detail: `${(err as Error).message}`.slice(0, 300), problems: 0 });
      }
    }
    const count = (k: string) => [...outcome.values()].filter((o) => o.kind === k).length;
    const withProblems = [...outcome.values()].filter((o) => o.kind === 'report' && o.problems > 0).length;
    console.log(
      `fuzz: ${all.length} mutated bundles: ${count('report')} reported (${((100 * count('report')) / all.length).toFixed(1)}%; ${withProblems} with elements left out), ` +
        `${count('rejected')} rejected (${all.filter((m) => m.requiredDamaged).length} had a required field damaged), ${count('crash')} crashed`,
    );
  }, 300_000);

  it('none crashes', () => {
    const crashes = all.filter((m) => outcome.get(m.n)!.kind === 'crash').map((m) => `#${m.n} ${m.what} ${m.path.join('.')} = ${m.how}: ${outcome.get(m.n)!.detail}`);
    expect(crashes).toEqual([]);
  });

  it('at least 90% give a report', () => {
    const reported = all.filter((m) => outcome.get(m.n)!.kind === 'report').length;
    expect(reported / all.length).toBeGreaterThanOrEqual(0.9);
  });

  it('rejected are exactly those with a damaged required field, each with one line naming its path', () => {
    const rejected = all.filter((m) => outcome.get(m.n)!.kind === 'rejected');
    expect(rejected.map((m) => m.n)).toEqual(all.filter((m) => m.requiredDamaged).map((m) => m.n));
    for (const m of rejected) expect(outcome.get(m.n)!.detail).toMatch(/^\S+\.json: (incident(\.id|\.created_at)?|bundle_version): [^\n]+$/);
  });

  it('every element kind and every damage was tried, and most left something out', () => {
    expect(new Set(all.map((m) => m.what))).toEqual(new Set([...Object.keys(ELEMENTS), 'required field']));
    expect(new Set(all.map((m) => m.how))).toEqual(new Set(Object.keys(DAMAGE)));
    const leftOut = all.filter((m) => (outcome.get(m.n)!.problems ?? 0) > 0).length;
    expect(leftOut).toBeGreaterThan(all.length / 2);
  });

  describe('through the built CLI', () => {
    const home = join(dir, 'home');
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, HINDSIGHT_HOME: home, HINDSIGHT_DEBUG: '' } });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const sample = () => {
      const withProblems = all.filter((m) => outcome.get(m.n)!.kind === 'report' && outcome.get(m.n)!.problems > 0);
      const logLine = withProblems.find((m) => m.what === 'log line')!;
      return [...withProblems.filter((m) => m !== logLine).slice(0, 4), logLine, ...all.filter((m) => m.requiredDamaged).slice(0, 2)];
    };

    beforeAll(() => {
      expect(existsSync(CLI), 'run npm run build first').toBe(true);
    });

    it('postmortem: exit 0 with one warning line, or exit 2 with one error line; never a stack trace', () => {
      for (const m of sample()) {
        const r = run(['postmortem', '--bundle', join(dir, `m${m.n}.json`), '--format', 'json', '--no-store']);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        if (m.requiredDamaged) {
          expect(r.code).toBe(2);
          expect(r.stdout).toBe('');
          expect(lines[0]).toMatch(/^hindsight: \S+\.json: (incident|bundle_version)/);
        } else {
          expect(r.code).toBe(0);
          expect(JSON.parse(r.stdout).data_gaps.some((g: string) => g.includes(' as malformed: '))).toBe(true);
          expect(lines[0]).toMatch(/^hindsight: warning: \d+ problems? in the bundle/);
        }
      }
    });

    it('validate lists the problems and exits 0; --strict rejects the same bundle with its first problem', () => {
      for (const m of sample().filter((x) => !x.requiredDamaged)) {
        const file = join(dir, `m${m.n}.json`);
        const v = run(['validate', '--bundle', file]);
        expect(v.code).toBe(0);
        expect(v.stdout).toMatch(/^ok: /);
        const listed = v.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
        expect(listed.length).toBeGreaterThan(0);
        const damaged = m.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1);
        expect(listed.some((l) => l.startsWith(damaged))).toBe(true);
        for (const args of [['validate'], ['postmortem', '--no-store']]) {
          const s = run([...args, '--bundle', file, '--strict']);
          expect(s.code).toBe(2);
          expect(s.stdout).toBe('');
          expect(s.stderr.trim().split('\n')).toEqual([`hindsight: ${file}: ${listed[0]}`]);
        }
      }
    });
  });
});
