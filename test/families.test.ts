// The incident family generator itself: deterministic, labels consistent with their bundles,
// surface forms that vary, and no way for the engine to see the generator's vocabulary.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import { DEV_SEEDS, FAMILY_NAMES, generateIncident, HELD_OUT_SEEDS, NO_CHANGE_FAMILIES, type GeneratedIncident } from './families/index.js';

type Json = Record<string, any>;

const NON_PROD = /^(staging|stage|dev|development|preview|qa|sandbox|test)$/;
const successAt = (d: Json): number | null => {
  const s = (d.statuses ?? []).find((x: Json) => x.state === 'success');
  return s ? Date.parse(s.created_at) : null;
};
const repos = (g: GeneratedIncident): Json[] => (g.bundle as Json).sources.github.repos;
const deploymentOf = (g: GeneratedIncident, repo: string, sha: string, id?: number): Json | undefined => {
  const r = repos(g).find((x) => x.full_name === repo);
  return r?.deployments.find((d: Json) => (id === undefined || d.id === id) && (r.deployment_commits[String(d.id)] ?? []).includes(sha));
};

// every family several times, from the dev range
const SAMPLE = Array.from({ length: FAMILY_NAMES.length * 5 }, (_, i) => generateIncident(DEV_SEEDS.from + i));

describe('family generator', () => {
  it('renders the same incident for the same seed, and different incidents for different seeds', () => {
    expect(JSON.stringify(generateIncident(42))).toBe(JSON.stringify(generateIncident(42)));
    expect(JSON.stringify(generateIncident(42, 'cascade'))).toBe(JSON.stringify(generateIncident(42, 'cascade')));
    expect(JSON.stringify(generateIncident(42).bundle)).not.toBe(JSON.stringify(generateIncident(43).bundle));
  });

  it('covers every family in the dev and held-out ranges, which do not overlap', () => {
    const families = (from: number) => new Set(Array.from({ length: FAMILY_NAMES.length }, (_, i) => generateIncident(from + i).family));
    expect(families(DEV_SEEDS.from).size).toBe(FAMILY_NAMES.length);
    expect(families(HELD_OUT_SEEDS.from).size).toBe(FAMILY_NAMES.length);
    expect(FAMILY_NAMES.length).toBeGreaterThanOrEqual(16);
    expect(HELD_OUT_SEEDS.from > DEV_SEEDS.to || HELD_OUT_SEEDS.to < DEV_SEEDS.from).toBe(true);
  });

  it('renders valid context bundles', () => {
    for (const g of SAMPLE) expect(() => validateBundle(JSON.parse(JSON.stringify(g.bundle))), `${g.family} seed ${g.seed}`).not.toThrow();
  });

  describe.each(SAMPLE.map((g) => [`${g.family} seed ${g.seed}`, g] as const))('%s: label matches the bundle', (_name, g) => {
    const onset = Date.parse(g.expected.spike_onset.at);
    const b = g.bundle as Json;

    it('the labelled trigger went live in production before the onset', () => {
      const t = g.expected.trigger;
      if (t === null) return expect(NO_CHANGE_FAMILIES.has(g.family)).toBe(true);
      expect(NO_CHANGE_FAMILIES.has(g.family)).toBe(false);
      if ('change_event_id' in t) {
        const e = (b.sources.pagerduty?.change_events ?? []).find((x: Json) => x.id === t.change_event_id);
        expect(e).toBeDefined();
        expect(Date.parse(e.timestamp)).toBeLessThan(onset);
        return;
      }
      const d = deploymentOf(g, t.repo, t.sha, t.deployment_id);
      expect(d, 'the culprit commit is shipped by the labelled deployment').toBeDefined();
      expect(NON_PROD.test(d!.environment)).toBe(false);
      const at = successAt(d!);
      expect(at).not.toBeNull();
      expect(at!).toBeLessThan(onset);
    });

    it('a latent defect shipped earlier than the trigger', () => {
      if (!g.expected.latent_defect) return;
      const t = g.expected.trigger!;
      const triggerAt = 'change_event_id' in t
        ? Date.parse(b.sources.pagerduty.change_events.find((x: Json) => x.id === t.change_event_id).timestamp)
        : successAt(deploymentOf(g, t.repo, t.sha, t.deployment_id)!)!;
      const older = deploymentOf(g, g.expected.latent_defect.repo, g.expected.latent_defect.sha);
      expect(older).toBeDefined();
      expect(successAt(older!)!).toBeLessThan(triggerAt - 60 * 60_000);
    });

    it('no-change incidents carry a decoy change shortly before the onset', () => {
      if (g.expected.trigger !== null) return;
      const changes = [
        ...repos(g).flatMap((r) => r.deployments.map((d: Json) => successAt(d) ?? Date.parse(d.created_at))),
        ...(b.sources.pagerduty?.change_events ?? []).map((e: Json) => Date.parse(e.timestamp)),
      ];
      expect(changes.some((ms) => ms < onset && onset - ms <= 30 * 60_000)).toBe(true);
    });

    it('the labelled spike is in the metrics: quiet before the onset, high after', () => {
      const es = g.expected.spike_onset;
      const series = b.sources.datadog.metrics.filter((m: Json) => m.metric === es.metric && (es.scope === undefined || m.scope === es.scope));
      expect(series).toHaveLength(1);
      const pts: Array<[number, number]> = series[0].pointlist;
      const beforeMax = Math.max(...pts.filter(([ms]) => ms < onset && ms >= onset - 30 * 60_000).map(([, v]) => v));
      const after = pts.filter(([ms]) => ms >= onset && ms < onset + 3 * 60_000).map(([, v]) => v);
      expect(Math.min(...after)).toBeGreaterThan(beforeMax * 3);
    });

    it('every person in the bundle is in must_not_appear', () => {
      const must = new Set(g.expected.must_not_appear);
      for (const u of Object.values(b.sources.slack.users) as Json[]) {
        expect(must.has(u.real_name)).toBe(true);
        expect(must.has(u.name)).toBe(true);
      }
      for (const r of repos(g)) {
        for (const c of r.commits) {
          if (c.author.type === 'Bot') continue;
          expect(must.has(c.commit.author.name)).toBe(true);
          expect(must.has(c.commit.author.email)).toBe(true);
          expect(must.has(c.author.login)).toBe(true);
        }
        for (const d of r.deployments) if (d.creator.type === 'User') expect(must.has(d.creator.login)).toBe(true);
      }
    });

    it('the root-cause terms are in the bundle', () => {
      const text = JSON.stringify(b).toLowerCase();
      const term = g.expected.root_cause_terms[0]!.toLowerCase();
      expect(text.includes(term), `"${term}" is in the bundle`).toBe(true);
    });
  });

  it('varies its surface forms across seeds', () => {
    const gs = Array.from({ length: 50 }, (_, i) => generateIncident(1000 + i));
    const distinct = (f: (g: GeneratedIncident) => string) => new Set(gs.map(f)).size;
    const b = (g: GeneratedIncident) => g.bundle as Json;
    expect(distinct((g) => repos(g).map((r) => r.full_name).sort().join())).toBeGreaterThan(45);
    expect(distinct((g) => b(g).incident.service)).toBeGreaterThan(25);
    expect(distinct((g) => b(g).sources.datadog.metrics[0].metric)).toBeGreaterThan(8);
    expect(distinct((g) => b(g).incident.source)).toBe(2);
    const envs = new Set(gs.flatMap((g) => repos(g).flatMap((r) => r.deployments.map((d: Json) => d.environment))));
    expect([...envs].filter((e) => !NON_PROD.test(e)).length).toBeGreaterThan(6);
    expect([...envs].filter((e) => NON_PROD.test(e)).length).toBeGreaterThan(2);
    // culprit is not always the head of its deployment
    const notHead = SAMPLE.filter((g) => {
      const t = g.expected.trigger;
      if (!t || 'change_event_id' in t) return false;
      return deploymentOf(g, t.repo, t.sha, t.deployment_id)!.sha !== t.sha;
    });
    expect(notHead.length).toBeGreaterThan(5);
  });

  it('is invisible to the engine: nothing under src/ imports test/', () => {
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
    const offenders = walk(join(__dirname, '..', 'src')).filter((f) => /from ['"][^'"]*\/test\//.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
