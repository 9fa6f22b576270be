// Scores a report against a labelled incident (expected.json in the shared scenario layout), so
// users can measure the analysis on their own history with `hindsight eval DIR`.
import type { Report } from '../core/report.js';

export interface Expected {
  trigger: { repo: string; sha: string; deployment_id?: number | string | null } | null;
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

const norm = (s: unknown) => String(s ?? '').trim().toLowerCase();

function shaMatch(a: unknown, b: unknown): boolean {
  const x = norm(a);
  const y = norm(b);
  if (x.length < 7 || y.length < 7 || !/^[0-9a-f]+$/.test(x) || !/^[0-9a-f]+$/.test(y)) return false;
  return x.startsWith(y) || y.startsWith(x);
}

function sameTrigger(t: { repo: string; sha: string; deployment_id?: number | string | null } | null, e: Expected['trigger']): boolean {
  if (!t || !e) return false;
  if (norm(t.repo) !== norm(e.repo) || !shaMatch(t.sha, e.sha)) return false;
  return e.deployment_id == null || t.deployment_id == null || String(t.deployment_id) === String(e.deployment_id);
}

export function scoreReport(report: Report, markdown: string, expected: Expected): Check[] {
  const checks: Check[] = [];
  const check = (name: string, pass: boolean, detail: string) => checks.push({ name, pass, detail });
  const describe = (t: Report['trigger']) => (t ? `${t.repo}@${t.sha.slice(0, 10)} deployment ${t.deployment_id}` : 'null');

  if (expected.trigger) {
    check('trigger_top1', sameTrigger(report.trigger, expected.trigger), `expected ${expected.trigger.repo}@${expected.trigger.sha.slice(0, 10)}, got ${describe(report.trigger)}`);
    const idx = report.candidates.slice(0, 3).findIndex((c) => sameTrigger(c, expected.trigger));
    check('trigger_in_top3', idx >= 0, idx >= 0 ? `rank ${idx + 1}` : 'not in the top 3 candidates');
  } else {
    check('no_false_blame', report.trigger === null, report.trigger ? `blamed ${describe(report.trigger)}` : 'trigger is null');
  }
  if (expected.spike_onset) {
    const es = expected.spike_onset;
    const at = Date.parse(es.at);
    const spikes = report.spikes.filter((s) => s.metric === es.metric && (es.scope === undefined || s.scope === es.scope));
    const best = spikes.reduce<number | null>((b, s) => {
      const d = Math.abs(Date.parse(s.onset) - at);
      return b === null || d < b ? d : b;
    }, null);
    check('spike_onset', best !== null && best <= es.tolerance_ms, best === null ? `no spike on ${es.metric}` : `off by ${best} ms`);
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
  return checks;
}
