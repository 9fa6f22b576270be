// The analysis core: bundle in, report out. Pure and deterministic (no I/O, no clock, no network).
import type { Bundle, LogSource } from './bundle.js';
import { draftDeterministic } from './draft.js';
import { collectFacts, type IncidentFacts } from './facts.js';
import { findWithheld, type Withholding } from './instructions.js';
import { Redactor } from './redact.js';
import type { Report, SeenBefore, SimilarIncident, SpikeEntry, Trigger, Candidate } from './report.js';
import { deriveSignals, type IncidentSignals } from './signals.js';
import { detectSpikes } from './spikes.js';
import { formatMs } from './time.js';
import { buildTimelineEvents, filterTimeline, toEntries, type TimelineEvent, type TimelineFilter } from './timeline.js';
import { assessTrigger, type CandidateAssessment, type TriggerAssessment } from './trigger.js';

export const ENGINE_VERSION = '0.1.0';

export interface Analysis {
  facts: IncidentFacts;
  signals: IncidentSignals;
  trigger: TriggerAssessment;
  events: TimelineEvent[];
  redactor: Redactor;
  /** instruction-like texts of the bundle: never quoted in the timeline, the trigger's texts or the report */
  withholding: Withholding;
}

/** Everything the report is made from; tools that need only a part call this and pick. */
export function analyzeBundle(bundle: Bundle, logs?: LogSource): Analysis {
  const facts = collectFacts(bundle, logs);
  const spikes = facts.series.flatMap((s) => detectSpikes(s));
  const signals = deriveSignals(facts, spikes);
  const trigger = assessTrigger(facts, signals);
  const withholding = findWithheld(bundle, facts);
  withholding.scrubTrigger(trigger);
  const events = buildTimelineEvents(bundle, facts, signals, trigger);
  for (const e of events) e.summary = withholding.text(e.summary);
  const redactor = new Redactor(facts.people.aliases());
  return { facts, signals, trigger, events, redactor, withholding };
}

/** The redacted timeline with filters applied. */
export function timelineOf(analysis: Analysis, filter: TimelineFilter = {}) {
  return analysis.redactor.redactDeep(toEntries(filterTimeline(analysis.events, filter)));
}

/** The spikes in report order: error-like first, then those covering detection, then the service's. */
export function orderedSpikes(signals: IncidentSignals): IncidentSignals['spikes'] {
  return signals.spikes
    .slice()
    .sort(
      (a, b) =>
        Number(b.errorLike) - Number(a.errorLike) ||
        Number(b.coversDetection) - Number(a.coversDetection) ||
        Number(b.relatedToService) - Number(a.relatedToService) ||
        a.onsetMs - b.onsetMs,
    );
}

function spikeEntries(signals: IncidentSignals): SpikeEntry[] {
  return orderedSpikes(signals).map((s) => {
    const entry: SpikeEntry = {
      metric: s.metric,
      scope: s.scope,
      onset: formatMs(s.onsetMs),
      peak: s.peak,
      baseline: Number(s.baseline.toFixed(6)),
      direction: s.direction,
      error_like: s.errorLike,
    };
    if (s.recoveredAtMs !== null) entry.recovered_at = formatMs(s.recoveredAtMs);
    return entry;
  });
}

function changeIds(c: CandidateAssessment): Pick<Candidate, 'repo' | 'sha' | 'deployment_id' | 'change_event_id'> {
  const d = c.deployment;
  const sha = d.origin === 'github' ? (c.culprit?.change.sha || d.sha) : d.sha;
  const ids: Pick<Candidate, 'repo' | 'sha' | 'deployment_id' | 'change_event_id'> = {
    repo: d.repo,
    sha: sha || null,
    deployment_id: d.origin === 'github' ? d.id : null,
  };
  if (d.origin !== 'github') ids.change_event_id = String(d.id);
  return ids;
}

export function triggerOf(assessment: TriggerAssessment): { trigger: Trigger | null; candidates: Candidate[] } {
  const t = assessment.trigger;
  const trigger: Trigger | null = t
    ? { kind: t.kind, ...changeIds(t), confidence: Number(t.score.toFixed(2)), evidence: t.evidence }
    : null;
  const candidates: Candidate[] = assessment.candidates.map((c) => ({
    kind: c.kind,
    source: c.deployment.origin,
    ...changeIds(c),
    score: Number(c.score.toFixed(2)),
    finished_at: c.deployment.finishedMs !== null ? formatMs(c.deployment.finishedMs) : null,
    role: c.role,
    ruled: c.role === 'trigger' ? 'in' : 'out',
    reasons: c.reasons,
  }));
  return { trigger, candidates };
}

export interface ReportOptions {
  similar?: SimilarIncident[];
  /** past incidents this one repeats, found by the caller in the history (core does no I/O) */
  seenBefore?: SeenBefore[];
  /** the full timeline is kept unless a filter is given */
  timelineFilter?: TimelineFilter;
}

export function buildReport(analysis: Analysis, options: ReportOptions = {}): Report {
  const { facts, signals } = analysis;
  const draft = draftDeterministic(facts, signals, analysis.trigger);
  const { trigger, candidates } = triggerOf(analysis.trigger);
  const resolved = facts.resolvedMs;
  const report: Report = {
    report_version: 1,
    incident: {
      id: facts.id,
      title: facts.title,
      service: facts.service,
      severity: facts.severity,
      started_at: formatMs(Math.min(signals.impactOnsetMs, facts.createdMs)),
      detected_at: formatMs(facts.createdMs),
      resolved_at: resolved !== null ? formatMs(resolved) : null,
    },
    summary: draft.summary,
    impact: draft.impact,
    timeline: toEntries(filterTimeline(analysis.events, options.timelineFilter ?? {})),
    spikes: spikeEntries(signals),
    trigger,
    trigger_reason: analysis.trigger.reason,
    candidates,
    root_cause: draft.rootCause,
    five_whys: draft.fiveWhys,
    action_items: draft.actionItems,
    similar_incidents: options.similar ?? [],
    log_signatures: facts.logSignatures
      .slice()
      .sort((a, b) => b.count - a.count)
      .slice(0, 25)
      .map((s) => ({ template: s.template, count: s.count, first_at: formatMs(s.firstMs), last_at: formatMs(s.lastMs), level: s.level })),
    data_gaps: facts.dataGaps,
    redactions: { total: 0, by_kind: {} },
    withheld: analysis.withholding.entries(),
    generated_by: { engine: 'deterministic', model: null, version: ENGINE_VERSION },
  };
  if (options.seenBefore?.length) report.seen_before = options.seenBefore;
  if (resolved !== null) report.incident.duration_ms = resolved - Math.min(signals.impactOnsetMs, facts.createdMs);
  if (facts.url) report.incident.url = facts.url;

  // One pass over every string of the report: secrets and people never leave the core.
  const redactor = new Redactor(facts.people.aliases());
  const safe = redactor.redactDeep(analysis.withholding.deep(report));
  const byKind: Record<string, number> = { ...facts.logRedactions };
  for (const [kind, n] of Object.entries(redactor.counts())) byKind[kind] = (byKind[kind] ?? 0) + (n ?? 0);
  safe.redactions = { total: Object.values(byKind).reduce((a, b) => a + b, 0), by_kind: byKind };
  return safe;
}

export function postmortem(bundle: Bundle, options: ReportOptions = {}): Report {
  return buildReport(analyzeBundle(bundle), options);
}
