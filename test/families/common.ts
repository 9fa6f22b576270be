// Pieces shared by the family recipes: culprit deployments inside multi-commit deploys, innocent
// decoy deploys (some closer to the onset than the culprit), mitigations, and the label.
import { innocentCommit } from './faults.js';
import { type CommitSpec, type DeployResult, hhmm, HOUR, iso, MIN, type Scene } from './scene.js';
import { camel, identifierParts, kebab } from './vocab.js';

export type TriggerLabel =
  | { kind?: 'deployment'; repo: string; sha: string; deployment_id: number }
  | { kind: 'change_event'; change_event_id: string; repo?: string; sha?: string }
  | null;

export interface Expected {
  family: string;
  trigger: TriggerLabel;
  latent_defect?: { repo: string; sha: string };
  spike_onset: { metric: string; at: string; tolerance_ms: number; scope?: string };
  root_cause_terms: string[];
  timeline_must_include: Array<{ at: string; kind: string }>;
  must_not_appear: string[];
}

/** what a family recipe hands back to the generator */
export interface Outcome {
  trigger: TriggerLabel;
  latent?: { repo: string; sha: string };
  terms: string[];
  /** the labelled spike, when not the service's error metric */
  onset?: { metric: string; scope?: string; at?: number };
  /** deployments whose finish must appear on the timeline */
  timelineDeploys?: number[];
}

/**
 * A deployment shipping `culprit` among 0-3 innocent commits (the culprit is not always the head).
 * Sometimes the same commits went to a non-production environment first.
 */
export function culpritDeploy(s: Scene, repo: string, culprit: CommitSpec, finishedMs: number, o: { env?: string; extra?: number; staged?: boolean; description?: string; payload?: Record<string, unknown> } = {}): { deploy: DeployResult; sha: string } {
  const r = s.rng;
  if (r.chance(0.5)) s.deploy(repo, { finishedMs: finishedMs - r.int(3, 30) * HOUR, commits: [innocentCommit(s, r.int(0, 4))], env: o.env });
  const extra = o.extra ?? r.pick([0, 0, 1, 1, 2, 3]);
  const commits = Array.from({ length: extra }, () => innocentCommit(s, r.pick([0, 1, 2, 4])));
  const at = r.int(0, commits.length);
  commits.splice(at, 0, culprit);
  if (o.staged ?? r.chance(0.35)) s.deploy(repo, { env: s.nonProd(), finishedMs: finishedMs - r.int(20, 180) * MIN, commits: commits.map((c) => ({ ...c })) });
  const deploy = s.deploy(repo, { env: o.env, finishedMs, commits, description: o.description, payload: o.payload });
  return { deploy, sha: deploy.shas[at]! };
}

/** when a culprit finished: `lo`-`hi` minutes before the onset, at a random second */
export function before(s: Scene, lo: number, hi: number): number {
  return s.t0 - s.rng.int(lo * 60, hi * 60) * 1000;
}

/**
 * Innocent deployments and change events: docs, tests, unrelated services, non-production
 * environments, failed rollouts. `closeTo` puts some between that time and the onset.
 */
export function addDecoys(s: Scene, n: number, closeTo: number | null): void {
  const r = s.rng;
  const others = [s.otherService(), s.otherService()];
  for (let i = 0; i < n; i++) {
    const close = closeTo !== null && (i === 0 || r.chance(0.4));
    const lo = close ? closeTo + 15_000 : s.t0 - 5 * HOUR;
    const hi = close ? s.t0 - 10_000 : (closeTo ?? s.t0) - 20_000;
    const at = hi > lo ? lo + r.int(0, hi - lo) : s.t0 - r.int(20, 300) * 1000;
    const other = r.pick(others);
    const kind = r.int(0, 9);
    let what: string;
    let dismissal: string;
    if (kind === 0 || kind === 1) {
      const d = s.deploy(s.serviceRepo, { finishedMs: at, commits: [innocentCommit(s, kind)] });
      what = `the ${d.ref} deploy of ${s.serviceRepo.split('/')[1]} at ${hhmm(at)}`;
      dismissal = kind === 0 ? `${d.ref} was docs only, can't be it` : 'that one only touched tests';
    } else if (kind === 2 || kind === 3) {
      const d = s.deploy(other.repo, { finishedMs: at, commits: [innocentCommit(s, r.pick([2, 3, 4]))] });
      what = `the ${other.name} deploy at ${hhmm(d.finishedMs)}`;
      dismissal = `${other.name} doesn't talk to ${s.service}, and that diff is cosmetic`;
    } else if (kind === 4) {
      const parts = identifierParts(r, s.usedWords);
      s.usedWords.add(parts.join(' '));
      const d = s.deploy(s.serviceRepo, {
        env: s.nonProd(), finishedMs: at,
        commits: [{ message: `Refactor ${parts.join(' ')} lookup`, files: [{ filename: `src/${camel(parts)}.ts`, patch: `@@ -1,3 +1,5 @@\n+export function lookup${camel(parts)}(id: string) {\n+  return cache.get(id) ?? load(id);\n+}` }] }],
      });
      what = `the ${d.env} deploy at ${hhmm(at)}`;
      dismissal = `that went to ${d.env} only, prod never got it`;
    } else if (kind === 5) {
      const d = s.deploy(other.repo, { finishedMs: at, state: 'failure', commits: [innocentCommit(s, r.pick([2, 4]))] });
      what = `the ${other.name} rollout at ${hhmm(d.finishedMs)}`;
      dismissal = 'that rollout failed health checks and was aborted, old version still serving';
    } else if (kind === 7) {
      const parts = identifierParts(r, s.usedWords);
      s.usedWords.add(parts.join(' '));
      const d = s.deploy(s.serviceRepo, { finishedMs: at, commits: [{ message: `Add ${parts.join(' ')} to the admin export`, files: [{ filename: `src/admin/export/${camel(parts)}.ts`, patch: `@@ -12,3 +12,6 @@\n+export function export${camel(parts)}(rows) {\n+  return rows.map((row) => ({ id: row.id, ${camel(parts)}: row.${camel(parts)} ?? null }));\n+}` }] }] });
      what = `${d.ref} (${parts.join(' ')} export) at ${hhmm(at)}`;
      dismissal = 'that only adds an admin export nobody calls yet';
    } else if (kind === 8) {
      const [key, oldV, newV] = r.pick([['cors.allowed_origins', `https://app.${s.domain}`, `https://app.${s.domain},https://beta.${s.domain}`], ['ui.banner_text', 'Welcome', 'Welcome back'], ['support_email', `help@${s.domain}`, `support@${s.domain}`], ['analytics.sample_rate', '0.1', '0.2']] as const);
      const d = s.deploy(s.serviceRepo, { finishedMs: at, commits: [{ message: `config: update ${key}`, files: [{ filename: r.pick(['config/app.yaml', `config/${s.prodEnv}.yaml`]), patch: `@@ -7,3 +7,3 @@\n-${key}: ${oldV}\n+${key}: ${newV}` }] }] });
      what = `the ${key} change in ${d.ref}`;
      dismissal = `${key} can't produce these errors`;
    } else if (kind === 9) {
      const repo = `${s.org}/${r.pick(['platform-config', 'shared-config', 'service-limits'])}`;
      const d = s.deploy(repo, { env: r.pick(['global', 'all', s.prodEnv]), finishedMs: at, commits: [{ message: `limits: raise ${other.name} concurrency`, files: [{ filename: `services/${other.name}.yaml`, patch: `@@ -2,3 +2,3 @@\n ${other.name}:\n-  max_concurrency: ${r.int(50, 100)}\n+  max_concurrency: ${r.int(120, 300)}` }] }] });
      what = `the ${repo.split('/')[1]} push at ${hhmm(d.finishedMs)}`;
      dismissal = `that only touched ${other.name}'s limits`;
    } else {
      const flag = kebab([...identifierParts(r, s.usedWords), 'banner']);
      s.changeEvent({ ms: at, summary: r.pick([`Flag "${flag}" turned on for ${other.name}`, `Scaled ${other.name} from 4 to 6 replicas`]), integration: r.pick(['LaunchDarkly', 'Kubernetes', 'Spinnaker']), services: [other.name] });
      what = `the change on ${other.name} at ${hhmm(at)}`;
      dismissal = `that was on ${other.name}, nothing to do with ${s.service}`;
    }
    if (r.chance(0.45)) {
      const ask = s.ackMs + r.int(60, 400) * 1000;
      s.say(ask, s.responder(), r.pick([`could it be ${what}?`, `what about ${what}?`, `${what} is the closest change to the start`]));
      s.say(ask + r.int(40, 200) * 1000, s.responder(), dismissal);
    }
  }
}

/** a revert or rollback of `d` that ends the impact */
export function revertDeploy(s: Scene, d: DeployResult, revert: CommitSpec | null): DeployResult {
  const r = s.rng;
  const at = s.recoveryMs - r.int(20, 150) * 1000;
  const res = revert
    ? s.deploy(d.repo, { env: d.env, finishedMs: at, commits: [revert], description: `revert: ${d.ref}` })
    : s.deploy(d.repo, { env: d.env, finishedMs: at, commits: [{ message: `Rollback to the release before ${d.ref}`, files: [] }], description: `rollback ${d.ref}` });
  s.say(at - r.int(60, 240) * 1000, s.responder(), revert ? r.pick([`reverting ${d.sha.slice(0, 7)}`, `revert PR for ${d.ref} is up, deploying`]) : r.pick([`rolling back ${d.ref}`, `rollback of ${d.repo.split('/')[1]} to the previous release in progress`]));
  s.say(s.recoveryMs + r.int(60, 300) * 1000, s.responder(), r.pick(['error rate dropping since the rollback finished', 'recovered right after the revert went out', 'errors gone after the rollback']));
  return res;
}

export function labelFor(s: Scene, family: string, o: Outcome, deployFinishes: number[]): Expected {
  const onsetAt = o.onset?.at ?? s.t0;
  const spike: Expected['spike_onset'] = { metric: o.onset?.metric ?? s.errorMetric.metric, at: iso(onsetAt), tolerance_ms: 30_000 };
  if (o.onset?.scope) spike.scope = o.onset.scope;
  const tl: Expected['timeline_must_include'] = deployFinishes.map((ms) => ({ at: iso(ms), kind: 'deploy' }));
  tl.push({ at: iso(Math.floor(s.pageMs / 1000) * 1000), kind: 'page' }, { at: iso(Math.floor(s.resolveMs / 1000) * 1000), kind: 'resolve' });
  const e: Expected = {
    family,
    trigger: o.trigger,
    spike_onset: spike,
    root_cause_terms: o.terms,
    timeline_must_include: tl,
    must_not_appear: [...s.mustNotAppear].sort(),
  };
  if (o.latent) e.latent_defect = o.latent;
  return e;
}
