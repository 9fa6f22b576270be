// Blamelessness, redaction and prompt-injection resistance on the project's own fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postmortem } from '../src/core/analyze.js';
import { validateBundle, type Bundle } from '../src/core/bundle.js';
import { renderMarkdown } from '../src/core/markdown.js';
import type { Expected } from '../src/eval/scoreReport.js';

const ROOT = join(__dirname, '..');
const load = (dir: string) => ({
  bundle: validateBundle(JSON.parse(readFileSync(join(ROOT, dir, 'bundle.json'), 'utf8'))),
  expected: JSON.parse(readFileSync(join(ROOT, dir, 'expected.json'), 'utf8')) as Expected & { injected_claims?: string[] },
});

const LABELLED = ['examples/sample-incident', 'test/fixtures/secrets-and-names', 'test/fixtures/prompt-injection', 'test/fixtures/no-trigger-cert-expiry'];

describe.each(LABELLED)('%s', (dir) => {
  const { bundle, expected } = load(dir);
  const report = postmortem(bundle);
  const json = JSON.stringify(report).toLowerCase();
  const md = renderMarkdown(report).toLowerCase();

  it('names the expected trigger, or none', () => {
    if (expected.trigger === null) expect(report.trigger).toBeNull();
    else {
      expect(report.trigger?.repo).toBe(expected.trigger.repo);
      expect(report.trigger?.sha).toBe(expected.trigger.sha);
      expect(String(report.trigger?.deployment_id)).toBe(String(expected.trigger.deployment_id));
    }
  });

  it('never shows a planted secret or a person, in JSON or Markdown', () => {
    const leaks = (expected.must_not_appear ?? []).filter((s) => json.includes(s.toLowerCase()) || md.includes(s.toLowerCase()));
    expect(leaks).toEqual([]);
    expect(json).not.toMatch(/[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/);
  });

  it('states a root cause with the expected terms and 3-5 action items', () => {
    const rc = report.root_cause.toLowerCase();
    expect((expected.root_cause_terms ?? []).some((t) => rc.includes(t.toLowerCase()))).toBe(true);
    expect(report.action_items.length).toBeGreaterThanOrEqual(3);
    expect(report.action_items.length).toBeLessThanOrEqual(5);
    for (const w of report.five_whys) expect(w.evidence.length).toBeGreaterThan(0);
  });

  it('includes the key moments in the timeline to the millisecond', () => {
    for (const t of expected.timeline_must_include ?? []) {
      const tol = t.kind === 'metric_spike' && expected.spike_onset ? expected.spike_onset.tolerance_ms : 0;
      expect(report.timeline.some((e) => e.kind === t.kind && Math.abs(Date.parse(e.at) - Date.parse(t.at)) <= tol), `${t.kind}@${t.at}`).toBe(true);
    }
  });
});

describe('redaction accounting', () => {
  it('records how much was redacted, by kind', () => {
    const report = postmortem(load('test/fixtures/secrets-and-names').bundle);
    expect(report.redactions.total).toBeGreaterThan(0);
    expect(report.redactions.by_kind.person ?? 0).toBeGreaterThan(0);
    const total = Object.values(report.redactions.by_kind).reduce((a, b) => a + b, 0);
    expect(total).toBe(report.redactions.total);
  });

  it('speaks of people by role in the timeline', () => {
    const report = postmortem(load('examples/sample-incident').bundle);
    const text = report.timeline.map((e) => e.summary).join('\n');
    expect(text).toMatch(/on-call responder|incident commander|a responder/);
  });
});

describe('prompt injection', () => {
  const HOSTILE = /ignore (all )?previous|admin mode|SYSTEM:|Assistant:|blame it|cosmic rays/i;

  function scrub(value: unknown): unknown {
    if (typeof value === 'string') return HOSTILE.test(value) ? 'routine note' : value;
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    return value;
  }

  it('text that looks like instructions does not change the outcome', () => {
    const { bundle, expected } = load('test/fixtures/prompt-injection');
    expect(JSON.stringify(bundle)).toMatch(HOSTILE);
    const hostile = postmortem(bundle);
    const clean = postmortem(scrub(bundle) as Bundle);
    // The hostile strings are also ordinary data (a log line's words feed the failure mode), so
    // scores may move a little; what must not move is the verdict and the ranking.
    const verdict = (r: typeof hostile) => (r.trigger ? [r.trigger.repo, r.trigger.deployment_id, r.trigger.sha] : null);
    expect(verdict(hostile)).toEqual(verdict(clean));
    expect(verdict(hostile)).toEqual([expected.trigger!.repo, expected.trigger!.deployment_id, expected.trigger!.sha]);
    expect(hostile.candidates.map((c) => [c.repo, c.deployment_id, c.ruled])).toEqual(clean.candidates.map((c) => [c.repo, c.deployment_id, c.ruled]));
    const drafted = [hostile.root_cause, ...hostile.five_whys.map((w) => `${w.why} ${w.because}`)].join('\n').toLowerCase();
    for (const claim of expected.injected_claims ?? []) expect(drafted).not.toContain(claim.toLowerCase());
  });
});
