// Triggering change: rank every deployment that finished before the first anomaly by the evidence
// that it caused the incident, name the culprit commit inside the best one, or abstain.
// Blaming an innocent deploy is the worst mistake this tool can make, so timing alone never
// convicts: a trigger needs its diff to meet the failure (failure mode, identifiers, values) or
// to be undone by a rollback that ended the incident.
import { describeConfigChange, type ChangeAnalysis } from './changes.js';
import type { DeploymentFact, IncidentFacts } from './facts.js';
import { modeChangeNoun, modeLabel, modesOfChange, type FailureMode } from './failureModes.js';
import type { IncidentSignals } from './signals.js';
import { nameTokens, subwords } from './signals.js';

const FLAG_VALUE = /^(true|false|on|off|yes|no|enabled?|disabled?)$/i;
const isFlagValue = (v: string | null) => v !== null && FLAG_VALUE.test(v);
import { formatDuration, formatMs } from './time.js';

export const TRIGGER_THRESHOLD = 0.55;
const DEPENDENCY_MODES = new Set<FailureMode>(['upstream', 'network', 'timeout', 'rate_limit', 'tls', 'auth']);
const TIME_SCALE_MS = 30 * 60_000;

export interface CommitAssessment {
  change: ChangeAnalysis;
  match: number;
  /** independent, specific pieces of evidence (identifiers, values, growth pattern, flag flip) */
  specific: number;
  modeMatched: boolean;
  /** the commit switches a boolean setting (a feature flag) */
  flagFlip: boolean;
  evidence: string[];
  reverted: boolean;
}

export interface CandidateAssessment {
  deployment: DeploymentFact;
  score: number;
  ruledIn: boolean;
  reasons: string[];
  evidence: string[];
  culprit: CommitAssessment | null;
  kind: 'deployment' | 'config_change';
  /** a later deployment undid this one and the impact ended after it */
  undoneBy: DeploymentFact | null;
}

export interface TriggerAssessment {
  candidates: CandidateAssessment[];
  trigger: CandidateAssessment | null;
  reason: string;
  /** an earlier deployment whose code the triggering flag or config change exposed (a root cause, not the trigger) */
  latent: CandidateAssessment | null;
}

const SHARED_REPO = /config|infra|platform|terraform|k8s|kube|helm|deploy|flags?|settings|ops|gitops|manifests|charts/i;

export function repoAffinity(facts: IncidentFacts, d: DeploymentFact, mentionsService: boolean): { value: number; reason: string } {
  const service = facts.service?.toLowerCase() ?? '';
  const tagged = facts.repoServices.get(d.repo);
  if (service && tagged?.has(facts.service!)) return { value: 1, reason: `${d.repo} deploys ${facts.service} (deploy events are tagged with the service)` };
  const repoName = d.repo.split('/').pop()?.toLowerCase() ?? d.repo.toLowerCase();
  const serviceTokens = nameTokens(service);
  const repoTokens = nameTokens(repoName);
  if (service && (repoName === service || serviceTokens.some((t) => repoTokens.includes(t)))) {
    return { value: 1, reason: `${d.repo} is the repository of ${facts.service}` };
  }
  if (SHARED_REPO.test(repoName)) {
    return mentionsService
      ? { value: 0.9, reason: `${d.repo} is a shared configuration repository and this change names ${facts.service}` }
      : { value: 0.6, reason: `${d.repo} is a shared configuration repository that can affect every service` };
  }
  if (mentionsService) return { value: 0.6, reason: `${d.repo} is another service's repository but the change names ${facts.service}` };
  if (tagged && tagged.size) return { value: 0.25, reason: `${d.repo} deploys ${[...tagged].join(', ')}, not ${facts.service ?? 'the impacted service'}` };
  return { value: 0.3, reason: `${d.repo} is not the impacted service's repository` };
}

function timeWeight(deltaMs: number): number {
  return 1 / (1 + deltaMs / TIME_SCALE_MS);
}

const STRONG_TOKEN = /[A-Z].*[a-z].*[A-Z]|_|[a-z][A-Z]/;

function assessCommit(change: ChangeAnalysis, signals: IncidentSignals): CommitAssessment {
  const weights: number[] = [];
  const evidence: string[] = [];
  let specific = 0;
  /** evidence from code (identifiers, stack frames) as opposed to settings and values */
  let codeSpecific = 0;
  const shared: FailureMode[] = change.modes.filter((m) => signals.modes.includes(m) && m !== 'crash');
  for (const mode of shared.slice(0, 2)) {
    weights.push(0.35);
    evidence.push(`the change touches ${modeChangeNoun(mode)} and the incident shows ${modeLabel(mode)}`);
  }
  if (change.unboundedGrowth && signals.modes.includes('memory')) {
    specific++;
    weights.push(0.45);
    evidence.push(`${change.files.find((f) => f.cls === 'source' || f.cls === 'config')?.filename ?? 'the change'} adds an in-memory structure that only grows (no size bound or eviction in the diff) and the incident shows memory exhaustion`);
  }
  const matched: string[] = [];
  for (const id of change.identifiers) {
    const lower = id.toLowerCase();
    if (lower.length < 4 || !signals.tokens.has(lower) || signals.benignTokens.has(lower)) continue;
    if (matched.some((m) => m.toLowerCase() === lower)) continue;
    matched.push(id);
  }
  const strong = matched.filter((t) => STRONG_TOKEN.test(t) || t.length >= 9);
  const weak = matched.filter((t) => !strong.includes(t));
  for (const _ of strong.slice(0, 3)) weights.push(0.3);
  for (const _ of weak.slice(0, 2)) weights.push(0.12);
  codeSpecific += Math.min(strong.length, 3);
  if (matched.length) evidence.push(`error logs and alerts name ${matched.slice(0, 4).map((t) => `\`${t}\``).join(', ')}, which the diff changes`);
  // Partial matches: `new_tax_engine` in a diff and `TaxEngineError` in the errors name one thing.
  const exact = new Set(matched.map((m) => m.toLowerCase()));
  const partial: string[] = [];
  for (const id of change.identifiers) {
    if (exact.has(id.toLowerCase()) || partial.length >= 2) continue;
    const words = subwords(id).filter((w) => !signals.benignTokens.has(w));
    if (words.length < 2) continue;
    const hit = signals.compounds.find((c) => c.raw.toLowerCase() !== id.toLowerCase() && words.filter((w) => c.words.includes(w)).length >= 2);
    if (hit) {
      partial.push(id);
      weights.push(0.25);
      codeSpecific++;
      evidence.push(`the diff's \`${id}\` and the errors' \`${hit.raw}\` name the same component (${words.filter((w) => hit.words.includes(w)).join(', ')})`);
    }
  }
  // A stack trace or error that points at a file this commit changed.
  const pointedAt = change.files.find((f) => {
    if (['docs', 'test', 'ci', 'i18n', 'style'].includes(f.cls)) return false;
    const path = f.filename.replace(/^\.?\//, '');
    const withoutRoot = path.replace(/^(src|lib|app|pkg|internal|cmd)\//, '');
    return signals.errorText.includes(path) || (withoutRoot.includes('/') && signals.errorText.includes(withoutRoot));
  });
  if (pointedAt) {
    // A stack frame in a file the commit changed is as direct as evidence gets: it counts twice.
    codeSpecific += 2;
    weights.push(0.35);
    evidence.push(`the errors point at ${pointedAt.filename}, which this commit changes`);
  }
  const flips = change.configChanges.filter((c) => isFlagValue(c.from) && isFlagValue(c.to));
  if (flips.length) {
    specific++;
    weights.push(0.15);
    evidence.push(`it flips ${flips.map((c) => `${c.key.split('.').pop()} (${c.from} → ${c.to})`).slice(0, 2).join(', ')}, switching code paths at deploy time`);
  }
  let valueShown = false;
  for (const c of change.configChanges) {
    if (c.to === null || !/^\d+(\.\d+)?$/.test(c.to)) continue;
    const valueRe = new RegExp(`(^|[^\\d.])${c.to.replace('.', '\\.')}(?![\\d.])`);
    const sig = signals.incidentSignatures.find((s) => s.level === 'error' && valueRe.test(s.sample));
    if (sig) {
      specific++;
      valueShown = true;
      weights.push(0.2);
      evidence.push(`${describeConfigChange(c)}; errors show the new limit: "${sig.sample.slice(0, 120)}"`);
      break;
    }
  }
  // A changed setting that governs the failing mechanism (a pool size for pool exhaustion, a
  // timeout for timeouts, replicas for capacity) is specific evidence, unless the errors quote a
  // different limit than the one it now has (then it governs some other call).
  if (!valueShown) {
    const errorText = signals.incidentSignatures.filter((s) => s.level === 'error').slice(0, 8).map((s) => s.sample).join('\n');
    // Limits the errors quote: "timed out after 10000ms", "pool exhausted (10/10)".
    const quoted: Partial<Record<FailureMode, string[]>> = {
      timeout: [...errorText.matchAll(/(?:timed out|timeout|deadline)\D{0,20}?(\d+(?:\.\d+)?)\s?(?:ms|s)\b/gi)].map((m) => m[1]!),
      connection_pool: [...errorText.matchAll(/\(\s*\d+\s*\/\s*(\d+)\s*\)|pool\D{0,12}\d+\s*\/\s*(\d+)/gi)].map((m) => (m[1] ?? m[2])!),
    };
    for (const mode of shared) {
      const governing = change.configChanges.find((c) => c.to !== null && modesOfChange(c.key).includes(mode));
      if (!governing) continue;
      const limits = quoted[mode] ?? [];
      if (limits.length && !limits.includes(governing.to!)) continue;
      specific++;
      weights.push(0.2);
      evidence.push(`${describeConfigChange(governing)}: the setting governs ${modeLabel(mode).replace(/^a /, '')}, the failure the incident shows`);
      break;
    }
  }
  for (const c of change.configChanges.slice(0, 3)) {
    if (!evidence.some((e) => e.startsWith(describeConfigChange(c)))) evidence.push(describeConfigChange(c));
  }
  const match = 1 - weights.reduce((p, w) => p * (1 - w), 1);
  // When only a dependency is failing (upstream errors, timeouts, TLS, auth, rate limits, network)
  // and nothing in our own process is (memory, pools, rejected data…), the client code that talks
  // to it shows up in every error and every nearby change: code evidence then counts once at most,
  // and touching "upstream" code is never corroboration on its own.
  const dependencyOnly = signals.modes.length > 0 && signals.modes.every((m) => DEPENDENCY_MODES.has(m));
  specific += dependencyOnly ? Math.min(codeSpecific, 1) : codeSpecific;
  return { change, match, evidence, reverted: false, specific, modeMatched: shared.some((m) => m !== 'upstream'), flagFlip: flips.length > 0 };
}

function undoingDeployment(d: DeploymentFact, all: DeploymentFact[], signals: IncidentSignals): { by: DeploymentFact; revertedShas: Set<string> } | null {
  const sameRepo = all.filter((x) => x.repo === d.repo && x.environment === d.environment);
  const predecessor = sameRepo.filter((x) => x.index < d.index && x.finishedMs !== null).pop();
  const shas = new Set(d.commits.map((c) => c.sha));
  for (const later of sameRepo) {
    if (later.index <= d.index || later.finishedMs === null || later.finishedMs < signals.anomalyOnsetMs) continue;
    const revertedShas = new Set<string>();
    for (const c of later.commits) {
      if (!c.revertsSha) continue;
      for (const sha of shas) if (sha.startsWith(c.revertsSha) || c.revertsSha.startsWith(sha)) revertedShas.add(sha);
    }
    const rollback = predecessor !== undefined && later.sha === predecessor.sha;
    if (!revertedShas.size && !rollback) continue;
    // It only counts if the impact ended after it, not before.
    const recovered = signals.recoveredMs;
    if (recovered !== null && (recovered < later.finishedMs - 2 * 60_000 || recovered > later.finishedMs + 30 * 60_000)) continue;
    return { by: later, revertedShas };
  }
  return null;
}

function describeDeployment(d: DeploymentFact): string {
  return `deployment ${d.id} of ${d.repo}${d.ref ? ` ${d.ref}` : ''} (${d.sha.slice(0, 7)})`;
}

export function assessTrigger(facts: IncidentFacts, signals: IncidentSignals): TriggerAssessment {
  const onset = signals.anomalyOnsetMs;
  const onsetWhat = signals.anomalySource === signals.impactSource ? `the onset (${signals.impactSource})` : `the first anomaly (${signals.anomalySource})`;
  const candidates: CandidateAssessment[] = [];
  const serviceName = facts.service?.toLowerCase() ?? null;

  for (const d of facts.deployments) {
    const reasons: string[] = [];
    const evidence: string[] = [];
    const finished = d.finishedMs;
    if (finished === null) {
      const never = d.state === 'failure' || d.state === 'error' ? `its rollout ended in ${d.state} at ${formatMs(d.stateMs)} and never served traffic` : `it has no successful status (last state: ${d.state})`;
      candidates.push({ deployment: d, score: 0, ruledIn: false, reasons: [`ruled out: ${never}`], evidence, culprit: null, kind: 'deployment', undoneBy: null });
      continue;
    }
    if (finished > onset) {
      const after = formatDuration(finished - onset);
      const undo = d.commits.some((c) => c.revertsSha) || /rollback|roll back|revert|mitigat|hotfix|fix/i.test(d.description);
      reasons.push(`ruled out: finished at ${formatMs(finished)}, ${after} after ${onsetWhat}${undo ? '; it is a rollback or fix and belongs in the timeline' : ''}`);
      candidates.push({ deployment: d, score: 0, ruledIn: false, reasons, evidence, culprit: null, kind: 'deployment', undoneBy: null });
      continue;
    }
    const delta = onset - finished;
    const t = timeWeight(delta);
    reasons.push(`finished at ${formatMs(finished)}, ${formatDuration(delta)} before ${onsetWhat}`);

    const commits = d.commits.map((c) => assessCommit(c, signals));
    const mentionsService = serviceName !== null && d.commits.some((c) => c.addedText.toLowerCase().includes(serviceName) || c.files.some((f) => f.filename.toLowerCase().includes(serviceName)));
    const affinity = repoAffinity(facts, d, mentionsService);
    reasons.push(affinity.reason);

    const undo = undoingDeployment(d, facts.deployments, signals);
    if (undo) for (const ca of commits) if (undo.revertedShas.has(ca.change.sha)) ca.reverted = true;

    // Culprit: the commit whose diff best explains the failure (reverted commits first), else the head.
    const ranked = commits
      .slice()
      .sort((a, b) => Number(b.reverted) - Number(a.reverted) || b.match - a.match || b.change.risk - a.change.risk);
    let culprit = ranked[0] ?? null;
    if (culprit && culprit.match === 0 && !culprit.reverted) {
      // Nothing matches: name the commit most able to change runtime behaviour, the head on a tie.
      const maxRisk = Math.max(...commits.map((c) => c.change.risk));
      culprit = commits.find((c) => c.change.sha === d.sha && c.change.risk === maxRisk) ?? commits.find((c) => c.change.risk === maxRisk) ?? culprit;
    }
    // A flag switched on for this service minutes before our own code started failing is the
    // classic trigger of a latent defect, even when the errors do not name the flag.
    const ownFailure = !(signals.modes.length > 0 && signals.modes.every((m) => DEPENDENCY_MODES.has(m)));
    if (culprit?.flagFlip && delta <= 10 * 60_000 && affinity.value >= 0.9 && ownFailure) {
      culprit.specific++;
      culprit.evidence.push(`the flag switched ${formatDuration(delta)} before ${onsetWhat}, and the failure is in the service's own code`);
    }
    const risk = d.commits.length ? Math.max(...d.commits.map((c) => c.risk)) : 0.3;
    const match = culprit?.match ?? 0;
    if (d.commits.length === 0) reasons.push('no commit details in the bundle for this deployment');
    else if (risk < 0.25) reasons.push(`its commits ${(culprit?.change.riskReason ?? 'touch nothing that runs').replace(/^touches /, 'touch ')}, which cannot change runtime behaviour`);
    else if (culprit) reasons.push(`${culprit.change.sha.slice(0, 7)} ${culprit.change.riskReason}`);

    let score = 0.3 * t + 0.15 * affinity.value + 0.2 * risk + 0.35 * match;
    if (undo) score += 0.2;
    const env = (d.environment ?? '').toLowerCase();
    if (env && !/prod|live|main|primary|default/.test(env)) {
      score *= 0.2;
      reasons.push(`environment "${d.environment}" does not serve production traffic`);
    }
    if (risk < 0.25) score = Math.min(score, 0.3);
    score = Math.max(0, Math.min(0.99, score));

    evidence.push(`${describeDeployment(d)} finished at ${formatMs(finished)}, ${formatDuration(delta)} before ${onsetWhat} at ${formatMs(onset)}`);
    if (culprit) {
      evidence.push(`commit ${culprit.change.sha.slice(0, 12)} "${culprit.change.subject}" ${culprit.change.riskReason}`);
      evidence.push(...culprit.evidence);
    }
    if (undo) {
      const how = undo.revertedShas.size ? `reverts ${[...undo.revertedShas].map((s) => s.slice(0, 7)).join(', ')}` : `rolls back to ${undo.by.sha.slice(0, 7)}`;
      evidence.push(`${describeDeployment(undo.by)} ${how}; it finished at ${formatMs(undo.by.finishedMs!)} and the impact ended${signals.recoveredMs !== null ? ` at ${formatMs(signals.recoveredMs)}` : ' after it'}`);
    }
    if (match === 0 && !undo) reasons.push('nothing in its diff matches the error signatures, alerts or failure mode');
    else if (match > 0) reasons.push(...(culprit?.evidence.slice(0, 2) ?? []));
    if (undo) reasons.push(`undone by deployment ${undo.by.id}, after which the impact ended`);

    const configOnly = d.commits.length > 0 && d.commits.every((c) => c.files.every((f) => ['config', 'infra', 'docs', 'test', 'ci'].includes(f.cls)) && c.files.some((f) => f.cls === 'config' || f.cls === 'infra'));
    candidates.push({
      deployment: d,
      score,
      ruledIn: false,
      reasons,
      evidence,
      culprit,
      kind: configOnly || SHARED_REPO.test(d.repo.split('/').pop() ?? '') ? 'config_change' : 'deployment',
      undoneBy: undo?.by ?? null,
    });
  }

  candidates.sort((a, b) => b.score - a.score || (b.deployment.finishedMs ?? 0) - (a.deployment.finishedMs ?? 0));
  const best = candidates[0];
  // Conviction needs a revert that ended the impact, or independent evidence in the diff: two
  // specific matches, or one specific match in the failure mode the incident shows.
  const corroborated = (c: CandidateAssessment) =>
    c.undoneBy !== null || (c.culprit !== null && (c.culprit.specific >= 2 || (c.culprit.specific >= 1 && c.culprit.modeMatched)));
  const supported = best && best.score >= TRIGGER_THRESHOLD && corroborated(best);
  let reason: string;
  let latent: CandidateAssessment | null = null;
  if (!best) {
    reason = 'No deployment is recorded in the bundle, so no change can be named as the trigger.';
  } else if (supported) {
    best.ruledIn = true;
    best.reasons.unshift(`ruled in: score ${best.score.toFixed(2)}`);
    const runnerUp = candidates[1];
    if (runnerUp && runnerUp.score > best.score - 0.1 && runnerUp.score >= TRIGGER_THRESHOLD) {
      best.score = Math.max(0, best.score - 0.1);
      best.evidence.push(`deployment ${runnerUp.deployment.id} of ${runnerUp.deployment.repo} is a close second (score ${runnerUp.score.toFixed(2)})`);
    }
    reason = `${describeDeployment(best.deployment)} has the strongest evidence of the changes that finished before the onset.`;
    if (best.culprit?.flagFlip || best.kind === 'config_change') {
      latent =
        candidates.find(
          (c) => c !== best && c.culprit !== null && c.deployment.finishedMs !== null && c.deployment.finishedMs <= best.deployment.finishedMs! && c.culprit.specific >= 1 && c.culprit.match >= 0.25,
        ) ?? null;
      if (latent) {
        latent.reasons.splice(1, 0, `not the trigger: it shipped the code that deployment ${best.deployment.id} exposed, a latent defect and part of the root cause`);
      }
    }
  } else {
    const before = candidates.filter((c) => c.deployment.finishedMs !== null && c.deployment.finishedMs <= onset);
    reason = before.length
      ? `No change explains the incident: ${before.length} deployment${before.length > 1 ? 's' : ''} finished before ${onsetWhat}, but none has a diff that matches the failure (${
          best.score >= TRIGGER_THRESHOLD ? `best score ${best.score.toFixed(2)}, with no corroborating evidence in its diff` : `best score ${best.score.toFixed(2)} < ${TRIGGER_THRESHOLD}`
        }).`
      : `No change explains the incident: no deployment finished before ${onsetWhat}.`;
  }
  for (const c of candidates) {
    if (c === best && supported) continue;
    if (!c.reasons[0]?.startsWith('ruled out')) c.reasons.unshift(`ruled out: score ${c.score.toFixed(2)}${c.score >= TRIGGER_THRESHOLD ? ' without a diff that matches the failure' : ''}`);
  }
  return { candidates, trigger: supported ? best! : null, reason, latent };
}
