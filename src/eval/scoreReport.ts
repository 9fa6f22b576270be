// Scores a report against a labelled incident (expected.json in the shared scenario layout), so
// users can measure the analysis on their own history with `hindsight eval DIR`.
import type { Report } from '../core/report.js';

/** A labelled trigger: a GitHub deployment (repo + culprit sha), or a change event by its id. */
export type ExpectedTrigger =
  | { kind?: 'deployment' | 'config_change'; repo: string; sha: string; deployment_id?: number | string | null }
  | { kind: 'change_event'; change_event_id: string; repo?: string | null; sha?: string | null; deployment_id?: number | string | null };

export interface Expected {
  /** generated incidents: the causal family the incident was built from */
  family?: string;
  trigger: ExpectedTrigger | null;
  /** the older code change a recent push exercised, when there is one */
  latent_defect?: { repo: string; sha: string };
  spike_onset?: { metric: string; at: string; tolerance_ms: number; scope?: string };
  root_cause_terms?: string[];
  timeline_must_include?: Array<{ at: string; kind: string }>;
  must_not_appear?: string[];
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/** The decisions that matter most, per incident; null where the label does not ask. */
export interface Decision {
  /** the report's trigger is the labelled one (or null where none is expected) */
  trigger_right: boolean;
  /** a trigger is named where none is expected, or a wrong one is named */
  false_blame: boolean;
  latent_named: boolean | null;
  onset_hit: boolean | null;
  leaks: number;
}

export interface Score {
  checks: Check[];
  decision: Decision;
}

const norm = (s: unknown) => String(s ?? '').trim().toLowerCase();

function shaMatch(a: unknown, b: unknown): boolean {
  const x = norm(a);
  const y = norm(b);
  if (x.length < 7 || y.length < 7 || !/^[0-9a-f]+$/.test(x) || !/^[0-9a-f]+$/.test(y)) return false;
  return x.startsWith(y) || y.startsWith(x);
}

/** What a report names: its trigger, or one of its candidates. Older reports lack some fields. */
interface Named {
  repo?: string | null;
  sha?: string | null;
  deployment_id?: number | string | null;
  change_event_id?: string | null;
}

function isChangeEvent(e: ExpectedTrigger): e is Extract<ExpectedTrigger, { kind: 'change_event' }> {
  return e.kind === 'change_event';
}

export function sameTrigger(t: Named | null | undefined, e: ExpectedTrigger | null): boolean {
  if (!t || !e) return false;
  if (isChangeEvent(e)) return t.change_event_id != null && String(t.change_event_id) === String(e.change_event_id);
  if (norm(t.repo) !== norm(e.repo) || !shaMatch(t.sha, e.sha)) return false;
  return e.deployment_id == null || t.deployment_id == null || String(t.deployment_id) === String(e.deployment_id);
}

/** A candidate's role; reports from before roles existed say only ruled in or out. */
export function roleOf(c: Report['candidates'][number]): 'trigger' | 'latent_defect' | 'ruled_out' {
  const role = (c as { role?: string }).role;
  if (role === 'trigger' || role === 'latent_defect' || role === 'ruled_out') return role;
  return c.ruled === 'in' ? 'trigger' : 'ruled_out';
}

export function describeNamed(t: Named | null | undefined): string {
  if (!t) return 'null';
  if (t.change_event_id != null && !t.sha) return `change event ${t.change_event_id}`;
  return `${t.repo ?? '?'}@${String(t.sha ?? '?').slice(0, 10)} deployment ${t.deployment_id ?? '?'}`;
}

function describeExpected(e: ExpectedTrigger): string {
  return isChangeEvent(e) ? `change event ${e.change_event_id}` : `${e.repo}@${e.sha.slice(0, 10)}`;
}

export function scoreReport(report: Report, markdown: string, expected: Expected): Check[] {
  return score(report, markdown, expected).checks;
}

export function score(report: Report, markdown: string, expected: Expected): Score {
  const checks: Check[] = [];
  const check = (name: string, pass: boolean, detail: string) => checks.push({ name, pass, detail });
  const named = report.trigger as Named | null;
  let triggerRight: boolean;
  let falseBlame: boolean;
  if (expected.trigger) {
    triggerRight = sameTrigger(named, expected.trigger);
    falseBlame = named !== null && !triggerRight;
    check('trigger_top1', triggerRight, `expected ${describeExpected(expected.trigger)}, got ${describeNamed(named)}`);
    const ruledIn = report.candidates.filter((c) => roleOf(c) !== 'ruled_out');
    const idx = ruledIn.slice(0, 3).findIndex((c) => sameTrigger(c as Named, expected.trigger));
    check('trigger_in_top3', idx >= 0, idx >= 0 ? `rank ${idx + 1} of the candidates ruled in` : `not among the top 3 of ${ruledIn.length} candidates ruled in`);
  } else {
    triggerRight = named === null;
    falseBlame = named !== null;
    check('no_false_blame', named === null, named ? `blamed ${describeNamed(named)}` : 'trigger is null');
  }
  let latentNamed: boolean | null = null;
  if (expected.latent_defect) {
    const ld = expected.latent_defect;
    const hit = report.candidates.find((c) => roleOf(c) === 'latent_defect' && norm(c.repo) === norm(ld.repo) && shaMatch(c.sha, ld.sha));
    latentNamed = hit !== undefined;
    check('latent_defect', latentNamed, latentNamed ? 'named as the latent defect' : `${ld.repo}@${ld.sha.slice(0, 10)} not named as the latent defect`);
  }
  let onsetHit: boolean | null = null;
  if (expected.spike_onset) {
    const es = expected.spike_onset;
    const at = Date.parse(es.at);
    const spikes = report.spikes.filter((s) => s.metric === es.metric && (es.scope === undefined || s.scope === es.scope));
    const best = spikes.reduce<number | null>((b, s) => {
      const d = Math.abs(Date.parse(s.onset) - at);
      return b === null || d < b ? d : b;
    }, null);
    onsetHit = best !== null && best <= es.tolerance_ms;
    check('spike_onset', onsetHit, best === null ? `no spike on ${es.metric}` : `off by ${best} ms`);
  }
  if (expected.root_cause_terms?.length) {
    const rc = norm(report.root_cause);
    const hit = expected.root_cause_terms.filter((t) => rc.includes(norm(t)));
    check('root_cause_terms', hit.length >= 1, `${hit.length}/${expected.root_cause_terms.length} matched`);
  }
  for (const t of expected.timeline_must_include ?? []) {
    const tol = t.kind === 'metric_spike' && expected.spike_onset ? expected.spike_onset.tolerance_ms : 0;
    const ok = report.timeline.some((e) => e.kind === t.kind && (tol ? Math.abs(Date.parse(e.at) - Date.parse(t.at)) <= tol : e.at === t.at));
    check(`timeline ${t.kind}@${t.at}`, ok, ok ? 'present' : 'missing');
  }
  const json = JSON.stringify(report).toLowerCase();
  const md = markdown.toLowerCase();
  const leaked = (expected.must_not_appear ?? []).filter((s) => json.includes(s.toLowerCase()) || md.includes(s.toLowerCase()));
  check('must_not_appear', leaked.length === 0, leaked.length ? `${leaked.length} leaked` : `none of ${(expected.must_not_appear ?? []).length}`);
  const n = report.action_items.length;
  check('action_items_count', n >= 3 && n <= 5, `${n} items`);
  return { checks, decision: { trigger_right: triggerRight, false_blame: falseBlame, latent_named: latentNamed, onset_hit: onsetHit, leaks: leaked.length } };
}

/** Thrown for a label that cannot be scored; the message names the JSON path. */
export class ExpectedError extends Error {
  override name = 'ExpectedError';
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks the fields scoring relies on; everything else in the label is passed through. */
export function checkExpected(value: unknown): Expected {
  if (!isObject(value)) throw new ExpectedError('expected a JSON object');
  if (!('trigger' in value)) throw new ExpectedError('trigger: required (null when no change caused the incident)');
  const t = value.trigger;
  if (t !== null) {
    if (!isObject(t)) throw new ExpectedError('trigger: expected an object or null');
    if (t.kind === 'change_event') {
      if (typeof t.change_event_id !== 'string' || !t.change_event_id) throw new ExpectedError('trigger.change_event_id: required for a change event trigger');
    } else {
      if (typeof t.repo !== 'string' || !t.repo) throw new ExpectedError('trigger.repo: required');
      if (typeof t.sha !== 'string' || !t.sha) throw new ExpectedError('trigger.sha: required');
    }
  }
  const ld = value.latent_defect;
  if (ld !== undefined && ld !== null) {
    if (!isObject(ld) || typeof ld.repo !== 'string') throw new ExpectedError('latent_defect.repo: required');
    if (typeof ld.sha !== 'string') throw new ExpectedError('latent_defect.sha: required');
  }
  const so = value.spike_onset;
  if (so !== undefined && so !== null) {
    if (!isObject(so) || typeof so.metric !== 'string') throw new ExpectedError('spike_onset.metric: required');
    if (typeof so.at !== 'string' || Number.isNaN(Date.parse(so.at))) throw new ExpectedError('spike_onset.at: not an ISO-8601 time');
    if (typeof so.tolerance_ms !== 'number') throw new ExpectedError('spike_onset.tolerance_ms: expected number');
  }
  for (const key of ['root_cause_terms', 'must_not_appear', 'timeline_must_include'] as const) {
    if (value[key] !== undefined && !Array.isArray(value[key])) throw new ExpectedError(`${key}: expected array`);
  }
  return value as unknown as Expected;
}
