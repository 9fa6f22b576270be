// The deterministic draft: root cause, five whys and action items written from the evidence the
// analysis found. Every sentence is built from facts of this incident (times, SHAs, files, config
// keys, metric names, log signatures); nothing is a fixed template filled with nothing.
import { configChangePhrase, describeConfigChange, type ChangeAnalysis } from './changes.js';
import { describeChange, type DeploymentFact, type IncidentFacts } from './facts.js';
import { modeLabel, modeSymptomPattern, type FailureMode } from './failureModes.js';
import type { ActionItem, ActionType, FiveWhy, Priority } from './report.js';
import type { ClassifiedSpike, IncidentSignals } from './signals.js';
import { formatDuration, formatMs } from './time.js';
import type { CandidateAssessment, TriggerAssessment } from './trigger.js';
import { clipWhole } from './redact.js';

export interface Draft {
  summary: string;
  impact: string;
  rootCause: string;
  fiveWhys: FiveWhy[];
  actionItems: ActionItem[];
}

const MODE_PRIORITY: FailureMode[] = [
  'connection_pool', 'memory', 'tls', 'database', 'validation', 'rate_limit', 'auth', 'timeout', 'feature_flag', 'capacity', 'network', 'upstream', 'crash',
];

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clip(text: string, max = 140): string {
  return clipWhole(text, max);
}

function spikeName(s: ClassifiedSpike): string {
  return `${s.metric}${s.scope ? ` {${s.scope}}` : ''}`;
}

function fmtValue(v: number): string {
  if (Math.abs(v) >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(0)} M`;
  return String(Number(v.toFixed(3)));
}

function spikeEvidence(s: ClassifiedSpike): string {
  return `${spikeName(s)} ${s.direction === 'up' ? 'rose' : 'dropped'} from ${fmtValue(s.baseline)} to ${fmtValue(s.peak)} starting ${formatMs(s.onsetMs)}${s.recoveredAtMs !== null ? `, back at ${formatMs(s.recoveredAtMs)}` : ''}`;
}

function primaryMode(signals: IncidentSignals, culprit: ChangeAnalysis | null): FailureMode | null {
  const shared = culprit ? culprit.modes.filter((m) => signals.modes.includes(m)) : [];
  if (culprit?.unboundedGrowth && signals.modes.includes('memory')) return 'memory';
  for (const m of MODE_PRIORITY) if (shared.includes(m)) return m;
  if (culprit) return null;
  for (const m of MODE_PRIORITY) if (signals.modes.includes(m)) return m;
  return null;
}

/** Dependency name from tags like provider:x / upstream:x, or an error class like FooError. */
function dependencyName(facts: IncidentFacts, signals: IncidentSignals): string | null {
  for (const s of signals.spikes) {
    if (!s.coversDetection) continue;
    const m = /(?:^|,)\s*(?:provider|upstream|dependency|peer\.service|vendor|acquirer|gateway)[:=]([\w.-]+)/i.exec(s.scope);
    if (m) return m[1]!;
  }
  for (const sig of signals.incidentSignatures) {
    const m = /\b([A-Z][A-Za-z0-9]+?)(?:Error|Exception)\b/.exec(sig.sample);
    if (m && !/^(Type|Reference|Range|Syntax|Serialization|Validation|Internal|Runtime|Http|Request|Timeout|Connection|Database|Unknown)$/.test(m[1]!)) return m[1]!;
    const host = /https?:\/\/(?:api\.)?([a-z0-9-]+)\./i.exec(sig.sample);
    if (host && !facts.service?.includes(host[1]!)) return host[1]!;
  }
  return null;
}

function changeDescription(change: ChangeAnalysis): string {
  const parts: string[] = [];
  if (change.record) {
    // A change event's details are whatever its tool sent: only settings that moved are worth a phrase.
    const moved = change.configChanges.filter((c) => c.from !== null && c.to !== null).slice(0, 2);
    return moved.length ? moved.map((c) => `moves ${c.key} from ${c.from} to ${c.to}`).join(' and ') : `rolls out "${clip(change.subject, 100)}"`;
  }
  if (change.configChanges.length) parts.push(change.configChanges.slice(0, 2).map(configChangePhrase).join(' and '));
  const runtimeFiles = change.files.filter((f) => !['docs', 'test', 'ci'].includes(f.cls));
  const added = runtimeFiles.filter((f) => f.status === 'added').map((f) => f.filename);
  const modified = runtimeFiles.filter((f) => f.status !== 'added' && !change.configChanges.some((c) => c.file === f.filename)).map((f) => f.filename);
  if (added.length) parts.push(`adds ${added.slice(0, 3).join(', ')}`);
  if (modified.length) parts.push(`modifies ${modified.slice(0, 3).join(', ')}`);
  return parts.length ? parts.join('; ') : change.riskReason;
}

function quotedValues(text: string): string[] {
  return [...text.matchAll(/'([^'\s]{3,60})'|"([^"\s]{3,60})"/g)].map((m) => m[1] ?? m[2]!).filter((v) => !/^\d+$/.test(v));
}

/** The error signature that best shows the failure mode (the most frequent one otherwise). */
function modeSignature(mode: FailureMode | null, signals: IncidentSignals) {
  const errors = signals.incidentSignatures.filter((s) => s.level === 'error');
  const pattern = mode ? modeSymptomPattern(mode) : null;
  return (pattern && errors.find((s) => pattern.test(s.sample))) ?? errors[0];
}

function mechanism(mode: FailureMode | null, change: ChangeAnalysis | null, signals: IncidentSignals, facts: IncidentFacts): string {
  const sig = modeSignature(mode, signals);
  const sample = sig ? `\`${clip(sig.sample, 120)}\`` : 'errors';
  const service = facts.service ?? 'the service';
  switch (mode) {
    case 'connection_pool':
      return `That left the connection pool smaller than peak concurrency needs: requests queued for a database connection and failed once the pool was exhausted (${sample}).`;
    case 'memory': {
      const ramp = signals.spikes.find((s) => s.coversDetection && /memory|heap|rss/i.test(s.metric));
      const since = ramp ? ` from ${formatMs(ramp.onsetMs)}` : '';
      return `It keeps data in memory with no size bound or eviction, a memory leak: memory grew steadily${since} until processes hit their limit and were OOM-killed, and requests failed while they restarted (${sample}).`;
    }
    case 'validation': {
      const values = sig ? quotedValues(sig.sample) : [];
      return `The new code rejects data that production already holds${values.length ? ` (values such as \`${values[0]}\`)` : ''}, so requests touching that data failed (${sample}).`;
    }
    case 'timeout':
      return `It shortened or changed a timeout on ${service}'s calls to its dependencies, and requests began to time out (${sample}).`;
    case 'rate_limit':
      return `It changed rate limits, and ${service} began rejecting or being refused requests (${sample}).`;
    case 'network':
      return `It changed network endpoints, hosts or DNS settings, and connections began to fail (${sample}).`;
    case 'tls':
      return `It changed TLS settings, and connections began failing their handshake (${sample}).`;
    case 'auth':
      return `It changed credentials or permissions, and calls began to be refused (${sample}).`;
    case 'database':
      return `It changed the database schema or queries${change?.files.some((f) => f.cls === 'migration') ? ' through a migration' : ''}, and queries began to fail (${sample}).`;
    case 'feature_flag':
      return `It switched on a code path through a flag, and that path failed under production traffic (${sample}).`;
    case 'capacity':
      return `It reduced serving capacity below the load (${sample}).`;
    default:
      return change ? `Errors followed it (${sample}).` : `Errors followed (${sample}).`;
  }
}

function stagingRecorded(d: DeploymentFact, facts: IncidentFacts): boolean {
  return facts.deployments.some(
    (x) => x.repo === d.repo && x !== d && x.sha === d.sha && /stag|canary|preprod|pre-prod|qa|test/i.test(x.environment ?? '') && x.createdMs <= d.createdMs,
  );
}

function detectionLag(facts: IncidentFacts, signals: IncidentSignals): number {
  return Math.max(0, facts.createdMs - signals.impactOnsetMs);
}

interface ActionCandidate extends ActionItem {
  weight: number;
}

function action(title: string, priority: Priority, type: ActionType, rationale: string, labels: string[], weight: number): ActionCandidate {
  return { title: clip(title, 120), priority, type, rationale, labels, weight };
}

function labelSet(facts: IncidentFacts, extra: string[]): string[] {
  return [...new Set(['postmortem', ...(facts.service ? [facts.service] : []), ...extra])];
}

function mostSpecificFile(change: ChangeAnalysis | null): string | null {
  if (!change) return null;
  const f = change.files.find((x) => x.cls === 'source' && x.status === 'added') ?? change.files.find((x) => x.cls === 'source') ?? change.files.find((x) => x.cls === 'config');
  return f?.filename ?? null;
}

function buildActions(
  facts: IncidentFacts,
  signals: IncidentSignals,
  trig: CandidateAssessment | null,
  mode: FailureMode | null,
  mitigation: DeploymentFact | null,
  latent: CandidateAssessment | null,
  manual: OperatorAction | null,
): ActionItem[] {
  const service = facts.service ?? 'the service';
  const change = trig?.culprit?.change ?? null;
  const sig = modeSignature(mode, signals);
  const sample = sig ? `\`${clip(sig.sample, 100)}\`` : 'the errors';
  const lag = detectionLag(facts, signals);
  const out: ActionCandidate[] = [];
  const file = mostSpecificFile(change);
  const modeLabels = mode ? [mode.replace(/_/g, '-')] : [];

  if (trig && change) {
    const short = change.sha.slice(0, 7);
    switch (mode) {
      case 'connection_pool': {
        const c = change.configChanges.find((x) => /pool|conn/i.test(x.key)) ?? change.configChanges[0];
        out.push(action(`Validate connection-pool settings${c ? ` (${c.key.split('.').pop()})` : ''} against measured peak concurrency before deploy`, 'P1', 'prevent',
          `${c ? describeConfigChange(c) : `Commit ${short} changed pool settings`}; at peak the pool was exhausted (${sample}). A CI or pre-deploy check comparing the limit with observed peak connections would have stopped it.`, labelSet(facts, modeLabels), 10));
        out.push(action(`Alert on connection-pool saturation and acquire wait time for ${service}`, 'P1', 'detect',
          `The page came ${formatDuration(lag)} after the onset and fired on the error rate; pool utilisation at 100% with waiting requests is the earlier, more specific signal.`, labelSet(facts, ['alerting', ...modeLabels]), 8));
        break;
      }
      case 'timeout':
      case 'rate_limit':
      case 'capacity': {
        const c = change.configChanges[0];
        if (c) {
          const key = c.key.split('.').pop()!;
          out.push(action(`Check changes to ${key} against production measurements before deploy`, 'P1', 'prevent',
            `Commit ${short} ${configChangePhrase(c)}; under real traffic that limit failed requests (${sample}). A pre-deploy check against measured latency and load percentiles would have flagged it.`, labelSet(facts, modeLabels), 10));
        } else {
          out.push(action(`Add a test that exercises ${file ?? 'the changed code'} under production-like latency and load`, 'P1', 'prevent',
            `Commit ${short} ${change.riskReason}; errors followed (${sample}).`, labelSet(facts, ['testing', ...modeLabels]), 9));
        }
        out.push(action(`Alert on ${modeLabel(mode)} for ${service} separately from the overall error rate`, 'P2', 'detect',
          `The page came ${formatDuration(lag)} after the onset; a ${modeLabel(mode)} alert names the cause at once.`, labelSet(facts, ['alerting', ...modeLabels]), 6));
        break;
      }
      case 'memory': {
        const thing = file ? file.split('/').pop()!.replace(/\.[^.]+$/, '') : 'the new in-memory structure';
        out.push(action(`Bound ${thing} with a size limit and eviction (LRU or TTL)`, 'P1', 'prevent',
          `Commit ${short} (${file ?? 'the change'}) keeps entries forever; memory grew until the pods were OOM-killed (${sample}).`, labelSet(facts, modeLabels), 10));
        const ramp = signals.spikes.find((s) => s.coversDetection && /memory|heap|rss/i.test(s.metric));
        out.push(action(`Alert on sustained memory growth and OOM restarts for ${service}`, 'P1', 'detect',
          ramp ? `${spikeName(ramp)} climbed for ${formatDuration(Math.max(0, signals.impactOnsetMs - ramp.onsetMs))} before users saw errors; a growth-rate alert would have paged before the first OOM kill.` : `Memory exhaustion was only noticed through user-facing errors.`, labelSet(facts, ['alerting', ...modeLabels]), 8));
        out.push(action(`Soak-test ${service} builds for an hour under production-like load before full rollout`, 'P2', 'prevent',
          `The leak needed ${formatDuration(Math.max(0, signals.impactOnsetMs - (trig.deployment.finishedMs ?? signals.impactOnsetMs)))} of traffic to surface, longer than any check that ran before the deploy.`, labelSet(facts, ['testing']), 6));
        break;
      }
      case 'validation': {
        const values = sig ? quotedValues(sig.sample) : [];
        const thing = file ? file.split('/').pop()!.replace(/\.[^.]+$/, '') : 'the decoder';
        out.push(action(`Make ${thing} tolerate values already stored in production${values[0] ? ` (e.g. \`${values[0]}\`)` : ''}, or migrate them first`, 'P1', 'prevent',
          `Commit ${short} ("${clip(change.subject, 80)}") made decoding stricter and production data did not conform (${sample}).`, labelSet(facts, modeLabels), 10));
        out.push(action(`Replay a sample of production records through ${thing} in CI before tightening validation`, 'P2', 'prevent',
          `Unit tests used only known values; a production-data replay would have found the records that now fail.`, labelSet(facts, ['testing', ...modeLabels]), 7));
        break;
      }
      case 'feature_flag': {
        const flip = change.configChanges.find((c) => /^(true|false|on|off|yes|no|enabled?|disabled?)$/i.test(c.to ?? ''));
        const flag = flip ? flip.key.split('.').pop()! : 'the flag';
        out.push(action(`Fix the code path that ${flag} enables before turning it on again`, 'P1', 'prevent',
          `Enabling ${flag} (commit ${short}) sent production traffic down a path that fails: ${sample}.`, labelSet(facts, modeLabels), 10));
        out.push(action(`Enable ${flag} and similar flags as a percentage rollout with an automatic kill switch on error rate`, 'P1', 'mitigate',
          `The flag went from ${flip?.from ?? 'off'} to ${flip?.to ?? 'on'} for all traffic at once; a 1% step would have shown the errors on a sliver of requests.`, labelSet(facts, ['deploy-safety', ...modeLabels]), 8));
        out.push(action(`Run ${service}'s tests with ${flag} enabled in CI before the production flip`, 'P2', 'prevent',
          `Nothing exercised the flagged path with production-like data before it was enabled.`, labelSet(facts, ['testing']), 6));
        break;
      }
      default: {
        const what = change.configChanges.length ? configChangePhrase(change.configChanges[0]!) : `${change.riskReason}`;
        if (change.record) {
          if (!latent) {
            out.push(action(`Validate ${trig.deployment.tool ?? 'recorded'} changes against the code that consumes them before rollout`, 'P1', 'prevent',
              `${capitalise(describeChange(trig.deployment))} rolled out "${clip(change.subject, 100)}"; errors started ${formatDuration(Math.max(0, signals.anomalyOnsetMs - (trig.deployment.finishedMs ?? signals.anomalyOnsetMs)))} later (${sample}).`, labelSet(facts, modeLabels), 9));
          }
        } else out.push(action(`Add a regression test for the behaviour changed by ${short}${file ? ` (${file})` : ''}`, 'P1', 'prevent',
          `Commit ${short} ${what}; errors started ${formatDuration(Math.max(0, signals.anomalyOnsetMs - (trig.deployment.finishedMs ?? signals.anomalyOnsetMs)))} after it went live (${sample}).`, labelSet(facts, modeLabels), 9));
        if (mode && mode !== 'crash') {
          out.push(action(`Alert on ${modeLabel(mode)} for ${service} before it reaches users`, 'P2', 'detect',
            `The failure mode (${modeLabel(mode)}) was visible in logs before the page ${formatDuration(lag)} after onset.`, labelSet(facts, ['alerting', ...modeLabels]), 6));
        }
      }
    }
    const d = trig.deployment;
    if (d.origin !== 'github') {
      out.push(action(`Roll out ${d.tool ?? 'recorded'} changes progressively, with automatic rollback on error-rate regression`, 'P1', 'mitigate',
        `${capitalise(describeChange(d))} reached ${d.environment ?? 'production'} at once, outside the deploy pipeline's checks; a staged rollout would have limited the blast radius to a fraction of traffic.`, labelSet(facts, ['deploy-safety']), 7));
    } else if (!stagingRecorded(d, facts)) {
      out.push(action(`Roll out ${d.repo} through a canary with automatic rollback on error-rate regression`, 'P1', 'mitigate',
        `Deployment ${d.id} went to ${d.environment ?? 'production'} in one step (no staging or canary deployment of ${(d.sha ?? '').slice(0, 7)} is recorded); a canary would have limited the blast radius to a fraction of traffic.`, labelSet(facts, ['deploy-safety']), 7));
    }
    if (trig.undoneBy?.finishedMs != null) {
      const took = trig.undoneBy.finishedMs - (facts.acknowledgedMs ?? facts.createdMs);
      if (took > 10 * 60_000) {
        out.push(action(`Make rollback of ${trig.deployment.repo ?? trig.deployment.tool ?? 'the change'} a one-step, pre-approved action`, 'P2', 'process',
          `The rollback (deployment ${trig.undoneBy.id}) finished ${formatDuration(took)} after acknowledgement, at ${formatMs(trig.undoneBy.finishedMs)}.`, labelSet(facts, ['runbook']), 5));
      }
    }
  } else {
    const dep = dependencyName(facts, signals);
    const depName = dep ?? 'the failing dependency';
    if (manual) {
      out.push(action(`Run production maintenance on ${service}'s dependencies through a reviewed runbook or tool, not by hand`, 'P1', 'prevent',
        `${manual.where === 'a responder' ? 'A responder reported' : 'The errors report'} a manual operation ("${clip(manual.text, 120)}") just before ${service} failed (${sample}).`, labelSet(facts, ['operations']), 11));
      out.push(action(`Guard destructive commands (bulk deletes, cache flushes, scale-downs) with a dry run, a limit and a second approver`, 'P1', 'prevent',
        `The operation ran against production in one step; a guard would have shown its blast radius first.`, labelSet(facts, ['operations']), 9));
    } else if (mode === 'upstream' || mode === 'timeout' || mode === 'network') {
      const timeout = sig ? /(\d{3,6})\s?ms/.exec(signals.incidentSignatures.map((s) => s.sample).join(' ')) : null;
      out.push(action(`Fail over automatically from ${depName} to a secondary on sustained errors or timeouts`, 'P1', 'mitigate',
        mitigation ? `Traffic was moved by hand with deployment ${mitigation.id} at ${formatMs(mitigation.finishedMs ?? mitigation.stateMs)}, ${formatDuration((mitigation.finishedMs ?? mitigation.stateMs) - signals.impactOnsetMs)} after the onset.` : `Requests kept failing (${sample}) until ${depName} recovered by itself.`, labelSet(facts, ['resilience', ...modeLabels]), 10));
      out.push(action(`Add a circuit breaker${timeout ? ` and a timeout shorter than ${timeout[1]} ms` : ''} for calls to ${depName}`, 'P1', 'mitigate',
        `Each failing call held a request until it gave up (${sample}); failing fast keeps ${service} responsive while ${depName} is down.`, labelSet(facts, ['resilience']), 8));
      out.push(action(`Alert on ${depName} error rate and subscribe the on-call to its status feed`, 'P2', 'detect',
        `The page came ${formatDuration(lag)} after the dependency's errors began; a dependency-scoped alert names the cause at once.`, labelSet(facts, ['alerting']), 6));
      out.push(action(`Write a runbook for switching away from ${depName}`, 'P3', 'process',
        `Responders had to decide the failover during the incident; a runbook makes it a checklist.`, labelSet(facts, ['runbook']), 3));
    } else if (mode === 'tls') {
      out.push(action(`Automate renewal of the certificates ${service} depends on`, 'P1', 'prevent', `The handshake failures (${sample}) began when a certificate expired; renewal must not depend on someone remembering.`, labelSet(facts, modeLabels), 10));
      out.push(action(`Alert 30 and 7 days before any certificate used by ${service} expires`, 'P1', 'detect', `Nothing warned before the expiry; the first signal was the page ${formatDuration(lag)} after the failures began.`, labelSet(facts, ['alerting', ...modeLabels]), 8));
      out.push(action(`Keep an inventory of certificates, owners and expiry dates, including internal mTLS`, 'P2', 'process', `Internal certificates are the ones that expire unnoticed.`, labelSet(facts, ['runbook']), 5));
    } else if (trafficSurge(signals) || mode === 'capacity') {
      out.push(action(`Autoscale ${service} on saturation before it sheds load`, 'P1', 'mitigate', `Saturation preceded the errors (${sample}).`, labelSet(facts, modeLabels), 9));
      out.push(action(`Load-test ${service} at the peak seen in this incident`, 'P2', 'prevent', `The incident's peak exceeded the tested capacity.`, labelSet(facts, ['testing']), 6));
    } else if (mode) {
      out.push(action(`Find and fix the source of ${modeLabel(mode)} in ${service}`, 'P1', 'prevent', `No change explains ${sample}; the cause needs confirming by the owning team.`, labelSet(facts, modeLabels), 8));
      out.push(action(`Alert on ${modeLabel(mode)} for ${service}`, 'P2', 'detect', `The page came ${formatDuration(lag)} after the onset.`, labelSet(facts, ['alerting']), 6));
    } else {
      out.push(action(`Confirm the cause of the errors in ${service} with the owning team`, 'P1', 'process', `No change in the bundle explains ${sample}.`, labelSet(facts, []), 8));
    }
  }

  const latentChange = latent?.culprit?.change ?? null;
  if (trig && latent && latentChange) {
    const file = mostSpecificFile(latentChange) ?? 'the code that failed';
    const source = trig.deployment.origin === 'github' ? `${trig.deployment.repo}` : `${trig.deployment.tool ?? 'change'} rollouts`;
    out.push(action(`Test ${file} against every input shape ${source} can produce, and validate pushes against it before rollout`, 'P1', 'prevent',
      `The code shipped by ${describeChange(latent.deployment)} (commit ${latentChange.sha.slice(0, 7)}) was live without failing until ${describeChange(trig.deployment)} exercised it (${sample}).`, labelSet(facts, ['testing', 'latent-defect']), 11));
  }
  if (lag > 3 * 60_000 && signals.primarySpike) {
    out.push(action(`Page on ${signals.primarySpike.metric} within minutes of a sustained rise`, 'P2', 'detect',
      `${spikeEvidence(signals.primarySpike)}, but the page only came at ${formatMs(facts.createdMs)} (${formatDuration(lag)} later).`, labelSet(facts, ['alerting']), 5));
  }
  if (facts.dataGaps.some((g) => /could not be harvested/.test(g))) {
    out.push(action('Restore access for the sources that could not be harvested', 'P3', 'process', facts.dataGaps.filter((g) => /harvested/.test(g)).join('; '), labelSet(facts, ['tooling']), 2));
  }
  if (out.length < 3) {
    out.push(action(`Document the ${service} failure signature in its runbook`, 'P3', 'process',
      `Responders identified ${sample} by hand; the runbook should map it to its cause and fix.`, labelSet(facts, ['runbook']), 1));
  }
  if (out.length < 3) {
    out.push(action(`Review alert coverage for ${service}`, 'P3', 'detect', `Detection lag in this incident: ${formatDuration(lag)}.`, labelSet(facts, ['alerting']), 1));
  }
  const rank: Record<Priority, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };
  const seen = new Set<string>();
  return out
    .filter((a) => (seen.has(a.title) ? false : (seen.add(a.title), true)))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, 5)
    .sort((a, b) => rank[a.priority] - rank[b.priority] || b.weight - a.weight)
    .map(({ weight: _w, ...item }) => item);
}

/** A throughput series that rose sharply while the incident was under way. */
function trafficSurge(signals: IncidentSignals): ClassifiedSpike | null {
  return (
    signals.spikes.find(
      (s) => s.coversDetection && s.direction === 'up' && !s.errorLike && /hits|requests|rps|qps|throughput|traffic|sessions|connections_opened/i.test(s.metric) && s.peak >= 2 * Math.max(s.baseline, 1e-9),
    ) ?? null
  );
}

/**
 * Problems other components logged shortly before the impacted service failed (a link going down,
 * a failover, a disk filling): where an incident with no change behind it actually started.
 */
function precursors(facts: IncidentFacts, signals: IncidentSignals) {
  const service = facts.service?.toLowerCase() ?? null;
  return facts.logSignatures
    .filter((s) => (s.level === 'error' || s.level === 'warn') && s.services.length > 0 && !s.services.some((x) => x.toLowerCase() === service))
    .filter((s) => s.firstMs >= signals.impactOnsetMs - 30 * 60_000 && s.firstMs <= signals.impactOnsetMs + 2 * 60_000)
    .sort((a, b) => a.firstMs - b.firstMs)
    .slice(0, 2);
}

/** The first host name an error names (`api.example.com`), for naming what a certificate or call was for. */
function hostIn(text: string): string | null {
  for (const m of text.matchAll(/\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b/gi)) {
    const h = m[0];
    if (/^(java|javax|sun|com\.sun|org|io|net)\.[a-z]+\.|\.(js|ts|py|go|rb|java|json|ya?ml|log|sql)$/i.test(h) || !/[a-z]/i.test(h)) continue;
    if (h.split('.').length >= 2 && !/Exception|Error/.test(h)) return h;
  }
  return null;
}

const OPERATOR_ACTION =
  /\b(?:I|we)\s+(?:just\s+)?(?:ran|executed|deleted|dropped|truncated|flushed|restarted|rebooted|scaled|drained|killed|removed|purged|rotated|failed over)\b|\bby hand\b|\bmanual(?:ly)?\s+(?:delete|update|flush|restart|command|query|script|operation|change|failover|cleanup|DELETE|UPDATE)|\b(?:FLUSHALL|FLUSHDB|DELETE FROM|DROP TABLE|DROP INDEX|TRUNCATE TABLE)\b|\bkubectl\s+(?:delete|scale|drain|rollout restart)|\bterraform\s+(?:apply|destroy)|\brm -rf\b/i;

const MITIGATION = /\b(start(ed|ing)?|restart(ed|ing)?|restor(e|ed|ing)|bring (it )?(back|up)|brought (back|up)|recover(ed|ing)?|rebuil(d|t)|re-?enabl(e|ed)|fail(ed)? back|let'?s|plan)\b/i;

interface OperatorAction {
  text: string;
  ms: number;
  where: string;
}

/** A manual operation that responders or the errors report near the onset, quoted. */
function operatorAction(facts: IncidentFacts, signals: IncidentSignals): OperatorAction | null {
  const from = signals.anomalyOnsetMs - 60 * 60_000;
  const to = (signals.recoveredMs ?? facts.resolvedMs ?? signals.anomalyOnsetMs + 3 * 3600_000) + 10 * 60_000;
  for (const sig of signals.incidentSignatures.slice(0, 8)) {
    if (sig.level === 'error' && OPERATOR_ACTION.test(sig.sample)) return { text: sig.sample, ms: sig.firstMs, where: 'the errors' };
  }
  // Reports of what was run come during the incident, not after: later "by hand" messages are the fix.
  const chatTo = Math.min(to, signals.impactOnsetMs + 45 * 60_000);
  for (const m of facts.chat) {
    if (m.ms < from || m.ms > chatTo) continue;
    if (MITIGATION.test(m.text)) continue;
    if (OPERATOR_ACTION.test(m.text) && !/\b(deploy(ed|ment)?|rollout|release)\b.*\b(at|closest)\b/i.test(m.text)) return { text: m.text, ms: m.ms, where: 'a responder' };
  }
  return null;
}

/** The cause in words when no change triggered the incident, by failure mode. */
function unchangedCause(mode: FailureMode | null, facts: IncidentFacts, signals: IncidentSignals, sigText: string): string {
  const service = facts.service ?? 'the service';
  const since = formatMs(signals.impactOnsetMs);
  const errors = sigText ? ` (${sigText})` : '';
  const surge = trafficSurge(signals);
  const expired = signals.incidentSignatures.some((s) => /expired|not yet valid|notafter|validity check failed/i.test(s.sample));
  if (mode === 'tls') {
    const host = hostIn(signals.incidentSignatures.filter((s) => s.level === 'error').map((s) => s.sample).join('\n'));
    return expired
      ? `An expired TLS certificate${host ? ` (for ${host})` : ''} broke ${service}'s connections from ${since}${errors}. Nothing renewed or alerted on the certificate before its expiry date, so the failure started at the moment it expired, with no change behind it.`
      : `TLS handshakes began failing from ${since}${errors}; certificates or trust stores changed outside the recorded deployments.`;
  }
  if (surge) {
    return `A traffic surge overloaded ${service}: ${spikeName(surge)} rose from ${fmtValue(surge.baseline)} to ${fmtValue(surge.peak)} from ${formatMs(surge.onsetMs)}, and errors followed from ${since}${errors}. Capacity did not scale with the load.`;
  }
  if (mode === 'memory') {
    return `${service} ran out of memory from ${since}${errors} with no recent change behind it: a leak shipped earlier or a change in workload, which the memory trend and heap profiles should confirm.`;
  }
  if (mode === 'capacity') {
    return `${service} ran out of capacity from ${since}${errors} without a recorded change: load, noisy neighbours or lost instances left it short.`;
  }
  if (mode === 'database') {
    return `The database behind ${service} began failing from ${since}${errors} without a recorded change (locks, load or an operation run by hand).`;
  }
  if (mode === 'auth') {
    return `Calls began to be refused from ${since}${errors}: credentials or permissions expired or were changed outside the recorded deployments.`;
  }
  if (mode === 'network') {
    return `Network or DNS failures began from ${since}${errors}, outside the recorded deployments (a network, DNS or infrastructure fault, or a change made outside the deploy pipeline).`;
  }
  if (mode === 'rate_limit') {
    return `${service} hit rate limits from ${since}${errors} without a recorded change: traffic grew or a quota was lowered outside the deploy pipeline.`;
  }
  return `From ${since} ${service} showed ${mode ? modeLabel(mode) : 'errors'}${errors}; the cause lies outside the recorded changes (traffic, infrastructure, a dependency or a manual operation) and needs confirming by the owning team.`;
}

export function draftDeterministic(facts: IncidentFacts, signals: IncidentSignals, trig: TriggerAssessment): Draft {
  const service = facts.service ?? 'the service';
  const t = trig.trigger;
  // with no change behind it, a manual operation near the onset is the cause (root cause and actions)
  const manual = t ? null : operatorAction(facts, signals);
  const change = t?.culprit?.change ?? null;
  const mode = primaryMode(signals, change);
  const topErrors = signals.incidentSignatures.filter((s) => s.level === 'error').slice(0, 2);
  const sigText = topErrors.map((s) => `\`${clip(s.sample, 120)}\``).join(' and ');
  const primary = signals.primarySpike;
  const lag = detectionLag(facts, signals);
  const end = signals.recoveredMs ?? facts.resolvedMs;
  const mitigation =
    facts.deployments
      .filter((d) => d.finishedMs !== null && d.finishedMs > signals.anomalyOnsetMs && (facts.resolvedMs === null || d.finishedMs <= facts.resolvedMs + 5 * 60_000))
      .filter((d) => t ? d === t.undoneBy : d.commits.some((c) => c.configChanges.length > 0) || /mitigat|failover|shift|rollback|revert/i.test(d.description))
      .sort((a, b) => a.finishedMs! - b.finishedMs!)[0] ?? null;

  const impact = `${service}: ${facts.title}. Impact from ${formatMs(signals.impactOnsetMs)}${end ? ` to ${formatMs(end)} (${formatDuration(end - signals.impactOnsetMs)})` : ', not yet recovered'}${primary ? `; ${spikeEvidence(primary)}` : ''}${topErrors[0] ? `; ${topErrors[0].count} log lines of the top error signature` : ''}.`;

  let rootCause: string;
  const whys: FiveWhy[] = [];
  const symptomEvidence = [
    ...(primary ? [spikeEvidence(primary)] : []),
    ...topErrors.map((s) => `log signature "${clip(s.template, 100)}": ${s.count} lines from ${formatMs(s.firstMs)} to ${formatMs(s.lastMs)}`),
  ];
  whys.push({
    why: `Why did ${service} fail (${clip(facts.title, 80)})?`,
    because: topErrors.length ? `From ${formatMs(signals.impactOnsetMs)} requests failed with ${sigText}.` : `From ${formatMs(signals.impactOnsetMs)} ${primary ? spikeName(primary) : 'the alerting metric'} left its normal range.`,
    evidence: symptomEvidence.length ? symptomEvidence : [`incident ${facts.id} opened at ${formatMs(facts.createdMs)}`],
  });

  if (t && change) {
    const d = t.deployment;
    const desc = changeDescription(change);
    const mech = mechanism(mode, change, signals, facts);
    const staged = stagingRecorded(d, facts);
    const latentFrom = trig.latent ? trig.latent.deployment.finishedMs : null;
    const latent = trig.latent?.culprit
      ? ` The latent defect was shipped earlier, in ${describeChange(trig.latent.deployment)} (commit ${trig.latent.culprit.change.sha.slice(0, 7)}, "${clip(trig.latent.culprit.change.subject, 80)}"${latentFrom !== null && d.finishedMs !== null ? `, ${formatDuration(d.finishedMs - latentFrom)} before the trigger` : ''}): that code had been live without failing until this change exercised it, so both belong to the root cause.`
      : '';
    const linkedName = t.culprit?.evidence.map((e) => /^the change (?:names|brings in) (?:the [a-z]+ )?(`[^`]+`)/.exec(e)?.[1]).find(Boolean);
    const named = t.culprit?.evidence.find((e) => e.startsWith('error logs and alerts name '));
    const namedPart = linkedName
      ? ` The errors name ${linkedName}, which this change brought in or changed.`
      : named
        ? ` The errors name what it changed: ${named.replace(/^error logs and alerts name /, '').replace(/, which the (change|diff) (changes|sets)$/, '')}.`
        : '';
    const shipped = d.origin === 'github'
      ? `Deployment ${d.id} of ${d.repo}${d.ref ? ` (${d.ref})` : ''} shipped commit ${change.sha.slice(0, 7)} ("${clip(change.subject, 100)}"), which ${desc}.`
      : `${capitalise(describeChange(d))} rolled out "${clip(change.subject, 120)}"${desc.startsWith('moves ') ? `, which ${desc}` : ''}.`;
    rootCause =
      `${shipped} ${mech}${namedPart}${latent} ` +
      `The change reached production ${staged ? 'after a staging deployment that did not exercise this path' : 'in a single step, with no canary or pre-production check that exercises this path'}, so the first signal was the user-facing errors.`;
    const modeSpikes = signals.spikes.filter((s) => s.coversDetection && s !== primary && s.relatedToService && s.errorLike).slice(0, 2);
    whys.push({
      why: `Why did requests fail that way?`,
      because: mech,
      evidence: [...modeSpikes.map(spikeEvidence), ...(t.culprit?.evidence.slice(0, 2) ?? [])].slice(0, 4).concat(modeSpikes.length || t.culprit?.evidence.length ? [] : [symptomEvidence[0] ?? `onset ${formatMs(signals.impactOnsetMs)}`]),
    });
    whys.push({
      why: `Why did that start at ${formatMs(signals.anomalyOnsetMs)}?`,
      because: d.origin === 'github'
        ? `Deployment ${d.id} of ${d.repo} finished at ${formatMs(d.finishedMs!)} and shipped commit ${change.sha.slice(0, 7)}, which ${desc}.`
        : `${capitalise(describeChange(d))} went live at ${formatMs(d.finishedMs!)}: "${clip(change.subject, 120)}".`,
      evidence: [...t.evidence.slice(0, 2), ...t.evidence.filter((e) => /\b(reverts|rolls back)\b/.test(e))],
    });
    const testFiles = change.files.filter((f) => f.cls === 'test').length;
    const rollout = d.finishedMs! - d.createdMs;
    const latentChange = trig.latent?.culprit?.change ?? null;
    if (trig.latent && latentChange) {
      const ld = trig.latent.deployment;
      const liveFor = ld.finishedMs !== null && d.finishedMs !== null ? formatDuration(d.finishedMs - ld.finishedMs) : 'a while';
      const file = mostSpecificFile(latentChange);
      whys.push({
        why: `Why did this change break code that had been running without trouble?`,
        because: `The code that failed was shipped earlier by ${describeChange(ld)} (commit ${latentChange.sha.slice(0, 7)}, "${clip(latentChange.subject, 80)}") and had been live for ${liveFor}; it could not handle what this change introduced, and nothing tested ${file ?? 'that code'} against the ${d.origin === 'github' ? 'configuration' : 'data'} before it was rolled out.`,
        evidence: trig.latent.evidence.filter((e) => !/close second/.test(e)).slice(0, 4),
      });
    }
    whys.push({
      why: 'Why did the change reach production without being caught?',
      because:
        d.origin === 'github'
          ? `${testFiles ? 'Its tests' : 'No test in the change'} exercised the failing path, and the rollout went to ${d.environment ?? 'production'} in ${formatDuration(rollout)} ${staged ? 'after staging' : 'with no canary or staging step recorded'}, so nothing stood between the change and all traffic.`
          : `It was rolled out by ${d.tool ?? 'a tool outside the deploy pipeline'} to ${d.environment ?? 'production'} at once, without the deploy pipeline's tests, canary or staged rollout, so nothing stood between the change and all traffic.`,
      evidence: [
        d.origin === 'github' ? `deployment ${d.id} created ${formatMs(d.createdMs)}, succeeded ${formatMs(d.finishedMs!)}` : `${describeChange(d)} recorded at ${formatMs(d.finishedMs!)}`,
        d.origin === 'github'
          ? `commit ${change.sha.slice(0, 7)} changes ${change.files.map((f) => f.filename).slice(0, 4).join(', ') || 'no listed files'}${testFiles ? '' : ' and no test files'}`
          : `the change was recorded by ${d.tool ?? d.origin} outside the deploy pipeline`,
      ],
    });
    const undo = t.undoneBy;
    whys.push({
      why: `Why did the impact last ${end ? formatDuration(end - signals.impactOnsetMs) : 'so long'}?`,
      because: `The page came ${formatDuration(lag)} after the onset${facts.acknowledgedMs ? `, was acknowledged at ${formatMs(facts.acknowledgedMs)}` : ''}, and ${undo ? `the fix (deployment ${undo.id}) only finished at ${formatMs(undo.finishedMs!)}` : 'no automatic rollback was in place'}.`,
      evidence: [
        `page at ${formatMs(facts.createdMs)}${facts.acknowledgedMs ? `, acknowledged at ${formatMs(facts.acknowledgedMs)}` : ''}`,
        ...(undo ? [`${describeChange(undo)} finished ${formatMs(undo.finishedMs!)}`] : []),
        ...(end ? [`recovered at ${formatMs(end)}`] : []),
      ],
    });
  } else {
    const dep = dependencyName(facts, signals);
    const ruledOut = trig.candidates.filter((c) => c.deployment.finishedMs !== null && c.deployment.finishedMs <= signals.anomalyOnsetMs).slice(0, 3);
    const external = mode === 'upstream' || mode === 'timeout' || mode === 'network';
    if (manual) {
      rootCause =
        `No deployment or configuration change triggered this incident: ${trig.reason.replace(/^No change explains the incident: /, '')} ` +
        `A manual operator action set it off: ${manual.where === 'a responder' ? `a responder reported at ${formatMs(manual.ms)}` : `from ${formatMs(manual.ms)} the errors say`} "${clip(manual.text, 180)}", and ${service} failed from ${formatMs(signals.impactOnsetMs)}${sigText ? ` (${sigText})` : ''}. ` +
        `Manual operations on production run without the guardrails of the deploy pipeline (review, dry run, staged rollout, automatic rollback).`;
    } else if (external) {
      rootCause =
        `No deployment or configuration change triggered this incident: ${trig.reason.replace(/^No change explains the incident: /, '')} ` +
        `The failure came from an upstream dependency${dep ? ` (${dep})` : ''}: from ${formatMs(signals.impactOnsetMs)} calls to it failed${sigText ? ` with ${sigText}` : ''}. ` +
        `${service} had no automatic failover or circuit breaker for that dependency, so its errors became ${service}'s errors until ${mitigation ? `traffic was moved by deployment ${mitigation.id} at ${formatMs(mitigation.finishedMs!)}` : 'the dependency recovered'}.`;
    } else {
      rootCause =
        `No deployment or configuration change triggered this incident: ${trig.reason.replace(/^No change explains the incident: /, '')} ` +
        unchangedCause(mode, facts, signals, sigText);
    }
    const old = trig.latent?.culprit ? trig.latent : null;
    if (old?.culprit && old.deployment.finishedMs !== null) {
      rootCause += ` The code that failed was shipped by ${describeChange(old.deployment)} (commit ${old.culprit.change.sha.slice(0, 7)}, "${clip(old.culprit.change.subject, 80)}") ${formatDuration(signals.anomalyOnsetMs - old.deployment.finishedMs)} before: a latent defect that ${old.culprit.evidence.find((e) => /backtrack|regular expression/.test(e)) ? 'this input made backtrack' : 'this traffic or data exercised'}, not a change that started the incident.`;
    }
    const first = precursors(facts, signals);
    if (first.length) {
      rootCause += ` It began outside ${service}: ${first.map((p) => `at ${formatMs(p.firstMs)} ${p.services[0] ?? 'another component'} logged \`${clip(p.sample, 140)}\``).join('; then ')}.`;
    }
    const depSpikes = signals.spikes.filter((s) => s.coversDetection && s !== primary && s.errorLike).slice(0, 2);
    whys.push({
      why: 'Why were those requests failing?',
      because: external ? `Calls to ${dep ?? 'an upstream dependency'} returned errors or timed out${sigText ? `: ${sigText}` : ''}.` : `${service} showed ${mode ? modeLabel(mode) : 'errors'}${sigText ? `: ${sigText}` : ''}.`,
      evidence: [...depSpikes.map(spikeEvidence), ...symptomEvidence.slice(1)].slice(0, 4).concat(depSpikes.length || symptomEvidence.length > 1 ? [] : [`onset ${formatMs(signals.impactOnsetMs)}`]),
    });
    whys.push({
      why: 'Why was no change blamed?',
      because: trig.reason,
      evidence: ruledOut.length ? ruledOut.map((c) => `${describeChange(c.deployment)}: ${c.reasons.slice(1, 3).join('; ')}`) : ['no deployment finished before the onset'],
    });
    whys.push({
      why: `Why did the ${external ? 'dependency failure' : 'failure'} reach users?`,
      because: external ? `${service} had no automatic failover or circuit breaker; the errors passed through until ${mitigation ? `a manual change (deployment ${mitigation.id})` : 'the dependency recovered'}.` : `Nothing absorbed the failure before it reached users.`,
      evidence: mitigation
        ? [`${describeChange(mitigation)} finished ${formatMs(mitigation.finishedMs!)}${mitigation.commits[0]?.configChanges[0] ? `: ${describeConfigChange(mitigation.commits[0].configChanges[0])}` : ''}`]
        : [`impact from ${formatMs(signals.impactOnsetMs)}${end ? ` to ${formatMs(end)}` : ''}`],
    });
    whys.push({
      why: `Why did the impact last ${end ? formatDuration(end - signals.impactOnsetMs) : 'so long'}?`,
      because: `The page came ${formatDuration(lag)} after the onset and recovery depended on ${mitigation ? 'a manual change' : external ? 'the dependency' : 'manual investigation'}.`,
      evidence: [`page at ${formatMs(facts.createdMs)}`, ...(end ? [`recovered at ${formatMs(end)}`] : [])],
    });
  }

  const actionItems = buildActions(facts, signals, t, mode, mitigation, trig.latent, manual);
  const triggerLine = t && change
    ? `Trigger: ${describeChange(t.deployment)}${change.sha && t.deployment.origin === 'github' ? ` (commit ${change.sha.slice(0, 7)})` : ''}, confidence ${t.score.toFixed(2)}.${trig.latent ? ` Latent defect: ${describeChange(trig.latent.deployment)}.` : ''}`
    : `Trigger: none — ${trig.reason}`;
  const summary = [
    `${facts.id} ${facts.severity ? `(${facts.severity}) ` : ''}${clip(facts.title, 100)}: impact from ${formatMs(signals.impactOnsetMs)}${end ? ` for ${formatDuration(end - signals.impactOnsetMs)}` : ''}.`,
    triggerLine,
    `Root cause: ${clip(rootCause, 200)} ${actionItems.length} action items.`,
  ].join('\n');
  // Five whys, not six: with a latent defect, its why explains the mechanism.
  if (whys.length > 5) whys.splice(1, 1);
  return { summary, impact, rootCause, fiveWhys: whys, actionItems };
}
