// Incident signals: when things went wrong (onsets) and what the failure looked like (failure
// modes and distinctive words from error signatures and alerts), as the trigger and the draft
// need them.
import type { IncidentFacts } from './facts.js';
import { modesOfSymptom, type FailureMode } from './failureModes.js';
import type { LogSignature } from './logSignatures.js';
import { isErrorLikeMetric, type Spike } from './spikes.js';

export interface ClassifiedSpike extends Spike {
  errorLike: boolean;
  /** errors, 5xx, failures or latency: what users feel */
  impact: boolean;
  relatedToService: boolean;
  /** the regime was under way when the incident was detected */
  coversDetection: boolean;
}

export interface IncidentSignals {
  spikes: ClassifiedSpike[];
  /** first point of user-visible impact */
  impactOnsetMs: number;
  impactSource: string;
  /** earliest anomaly tied to the incident (may precede impact, e.g. a memory ramp) */
  anomalyOnsetMs: number;
  anomalySource: string;
  primarySpike: ClassifiedSpike | null;
  /** error and warning signatures that belong to the incident, most frequent first */
  incidentSignatures: LogSignature[];
  modes: FailureMode[];
  /** distinctive identifiers from incident error text, lower-case */
  tokens: Set<string>;
  /** identifiers also seen in normal operation (info logs) or naming the service itself */
  benignTokens: Set<string>;
  /** compound identifiers of the incident text (two or more meaningful parts), for partial matches */
  compounds: Array<{ raw: string; words: string[] }>;
  /** error and warning text of the incident (messages with their stack traces) and alerts */
  errorText: string;
  /** the innermost frame of each incident stack trace: where the error was raised or the thread is stuck */
  innermostFrames: string[];
  recoveredMs: number | null;
}

const GENERIC_SERVICE_WORDS = new Set(['api', 'service', 'svc', 'app', 'server', 'worker', 'web', 'prod', 'production', 'backend', 'frontend', 'main']);

export function nameTokens(name: string | null | undefined): string[] {
  if (!name) return [];
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length >= 3 && !GENERIC_SERVICE_WORDS.has(t));
}

export const STOPWORDS = new Set(
  (
    'error errors failed failure fail with from this that request requests response responses const return import export function ' +
    'async await true false null undefined string number http https post get put delete patch status value values data json info warn ' +
    'warning debug type the and for when then else into over under after before while unknown invalid message code path name time ' +
    'timestamp service server client host port user users count total level line file files test tests spec expect describe ' +
    'window document console logger log logs default options opts config result results item items list index key keys params query ' +
    'body headers header text content length size version build release deploy deployed deployment production prod staging env ' +
    'public private static class interface extends implements void self this new return throw catch finally await yield ' +
    'true none some each more less than only also just will would should could have has had been were was are not all any ' +
    'state states call calls called calling retry retrying attempt attempts ok done start started stop stopped handler handle ' +
    'route routes router api apis https www example com internal local localhost'
  ).split(/\s+/),
);

const IDENT = /[A-Za-z_][A-Za-z0-9_]{3,}/g;

export function identifiersOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IDENT)) {
    const t = m[0].toLowerCase();
    if (!STOPWORDS.has(t) && !/^\d/.test(t)) out.push(t);
  }
  return out;
}

/** "TaxEngineError" -> tax, engine; "new_tax_engine" -> tax, engine (meaningful parts only). */
export function subwords(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 3 && !STOPWORDS.has(w) && !/^\d+$/.test(w) && !['new', 'old', 'get', 'set', 'use'].includes(w));
}

function metricModes(metric: string): FailureMode[] {
  const m = metric.toLowerCase();
  const out: FailureMode[] = [];
  if (/memory|heap|rss|oom/.test(m)) out.push('memory');
  if (/connection|pool/.test(m)) out.push('connection_pool');
  if (/restart|crash/.test(m)) out.push('crash');
  if (/cpu|throttl|queue|saturation/.test(m)) out.push('capacity');
  return out;
}

function isImpactMetric(metric: string): boolean {
  return /error|5xx|fail|exception|fault|latency|duration|p9\d|timeout|unavailable|reject|denied/i.test(metric);
}

/** JSON-encoded log messages carry their stack traces as `\n` and `\"` escapes. */
function unescaped(text: string): string {
  return text.includes('\\') ? text.replace(/\\[nrt]/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\') : text;
}

/** Python prints the innermost frame last; JavaScript, the JVM, .NET and Go print it first. */
export function innermostFrame(trace: string): string | null {
  const lines = trace.split('\n');
  const python = lines.filter((l) => /^\s*File "/.test(l));
  if (python.length) return python[python.length - 1]!.trim();
  const at = lines.find((l) => /^\s+at\s/.test(l));
  if (at) return at.trim();
  const goroutine = lines.findIndex((l) => /^goroutine \d+/.test(l));
  // a Go frame is the function and, on the next line, its file
  if (goroutine >= 0) {
    const at = lines.findIndex((l, i) => i > goroutine && /\S/.test(l));
    return at >= 0 ? `${lines[at]!.trim()} ${lines[at + 1]?.trim() ?? ''}`.trim() : null;
  }
  return null;
}

export function deriveSignals(facts: IncidentFacts, spikes: Spike[]): IncidentSignals {
  const detection = facts.createdMs;
  const serviceTokens = nameTokens(facts.service);
  const classified: ClassifiedSpike[] = spikes.map((s) => {
    const errorLike = isErrorLikeMetric(s.metric);
    const text = `${s.metric} ${s.scope}`.toLowerCase();
    const relatedToService =
      (facts.service !== null && text.includes(facts.service.toLowerCase())) || serviceTokens.some((t) => text.includes(t));
    const coversDetection =
      s.onsetMs <= detection + 5 * 60_000 &&
      s.onsetMs >= detection - 12 * 3600_000 &&
      (s.recoveredAtMs === null || s.recoveredAtMs >= detection - 10 * 60_000);
    const impact = errorLike && isImpactMetric(s.metric) && (s.direction === 'up' || /success|throughput|hits|count/i.test(s.metric));
    return { ...s, errorLike, impact, relatedToService, coversDetection };
  });

  // Incident error signatures: warnings and errors active around the incident. A signature that
  // was already steady long before the incident is background noise.
  const windowStart = detection - 6 * 3600_000;
  const windowEnd = (facts.resolvedMs ?? detection) + 30 * 60_000;
  const logStart = facts.logSignatures.reduce((min, s) => Math.min(min, s.firstMs), Number.POSITIVE_INFINITY);
  const incidentSignatures = facts.logSignatures
    .filter((s) => (s.level === 'error' || s.level === 'warn') && s.lastMs >= windowStart && s.firstMs <= windowEnd)
    .filter((s) => s.firstMs > logStart + 60_000 || s.count >= 3)
    .sort((a, b) => b.count - a.count || a.firstMs - b.firstMs);

  const covering = classified.filter((s) => s.coversDetection);
  const impactSpikes = covering.filter((s) => s.impact).sort((a, b) => a.onsetMs - b.onsetMs);
  const errorSpikes = covering.filter((s) => s.errorLike).sort((a, b) => a.onsetMs - b.onsetMs);
  const primarySpike =
    impactSpikes.find((s) => s.relatedToService) ?? impactSpikes[0] ?? errorSpikes.find((s) => s.relatedToService) ?? errorSpikes[0] ?? null;

  // Error logs of a new signature can show the start more precisely than a coarse metric.
  const newErrorSignatures = incidentSignatures.filter(
    (s) => s.level === 'error' && s.firstMs > logStart + 60_000 && s.firstMs <= detection + 60_000 && s.count >= 3,
  );
  const firstErrorLogMs = newErrorSignatures.reduce((min, s) => Math.min(min, s.firstMs), Number.POSITIVE_INFINITY);

  let impactOnsetMs = detection;
  let impactSource = 'the page';
  if (primarySpike && primarySpike.onsetMs <= detection) {
    impactOnsetMs = primarySpike.onsetMs;
    impactSource = `${primarySpike.metric}${primarySpike.scope ? ` {${primarySpike.scope}}` : ''}`;
  } else if (Number.isFinite(firstErrorLogMs)) {
    impactOnsetMs = firstErrorLogMs;
    impactSource = 'the first new error log signature';
  } else {
    const alertMs = facts.alertMs ?? null;
    if (alertMs !== null && alertMs < impactOnsetMs) {
      impactOnsetMs = alertMs;
      impactSource = 'the first alert';
    }
  }

  let anomalyOnsetMs = impactOnsetMs;
  let anomalySource = impactSource;
  for (const s of covering) {
    if (!s.errorLike || !(s.relatedToService || s.impact)) continue;
    if (s.onsetMs < anomalyOnsetMs && s.onsetMs >= impactOnsetMs - 6 * 3600_000) {
      anomalyOnsetMs = s.onsetMs;
      anomalySource = `${s.metric}${s.scope ? ` {${s.scope}}` : ''}`;
    }
  }
  if (Number.isFinite(firstErrorLogMs) && firstErrorLogMs < anomalyOnsetMs && firstErrorLogMs >= impactOnsetMs - 3600_000) {
    anomalyOnsetMs = firstErrorLogMs;
    anomalySource = 'the first new error log signature';
  }

  const modeSet = new Set<FailureMode>();
  // The first line of a multi-line error is often only "Traceback…": its last lines say what failed.
  const lastLines = (detail: string) => unescaped(detail).split('\n').filter((l) => !/^\s+(at |File ")/.test(l)).slice(-2).join('\n');
  const symptomText = [...incidentSignatures.slice(0, 12).map((s) => `${s.template}\n${s.sample}\n${lastLines(s.detail)}`), ...facts.alertTexts].join('\n');
  for (const m of modesOfSymptom(symptomText)) modeSet.add(m);
  for (const s of covering) if (s.errorLike && (s.relatedToService || s.impact)) for (const m of metricModes(s.metric)) modeSet.add(m);

  const benignTokens = new Set<string>([...serviceTokens, ...(facts.service ? identifiersOf(facts.service) : [])]);
  // Organisation names show up in package paths and URLs of every component: they link nothing.
  for (const repo of facts.repos) {
    const org = repo.split('/')[0] ?? '';
    for (const t of [org, ...org.split(/[^A-Za-z0-9]+/)]) if (t.length >= 3) benignTokens.add(t.toLowerCase());
  }
  for (const s of facts.logSignatures) if (s.level === 'info' || s.level === 'debug') for (const t of identifiersOf(s.template)) benignTokens.add(t);
  const tokens = new Set<string>();
  for (const s of incidentSignatures.slice(0, 20)) for (const t of identifiersOf(unescaped(`${s.template} ${s.detail}`))) if (!benignTokens.has(t)) tokens.add(t);
  for (const text of facts.alertTexts) for (const t of identifiersOf(text)) if (!benignTokens.has(t)) tokens.add(t);

  const compounds: Array<{ raw: string; words: string[] }> = [];
  const seenCompound = new Set<string>();
  const compoundSources = [...incidentSignatures.slice(0, 20).map((s) => unescaped(s.detail)), ...facts.alertTexts];
  for (const text of compoundSources) {
    for (const m of text.matchAll(/[A-Za-z_][A-Za-z0-9_]{5,}/g)) {
      const raw = m[0];
      if (seenCompound.has(raw)) continue;
      seenCompound.add(raw);
      const words = subwords(raw).filter((w) => !benignTokens.has(w));
      if (words.length >= 2) compounds.push({ raw, words });
    }
  }

  const innermostFrames: string[] = [];
  for (const sig of incidentSignatures.slice(0, 20)) {
    const frame = innermostFrame(unescaped(sig.detail));
    if (frame && !innermostFrames.includes(frame)) innermostFrames.push(frame);
  }

  const impactRecoveries = covering.filter((s) => s.impact && s.recoveredAtMs !== null).map((s) => s.recoveredAtMs!);
  const recoveredMs = primarySpike?.recoveredAtMs ?? (impactRecoveries.length ? Math.max(...impactRecoveries) : null);

  return {
    spikes: classified,
    impactOnsetMs,
    impactSource,
    anomalyOnsetMs,
    anomalySource,
    primarySpike,
    incidentSignatures,
    modes: [...modeSet],
    tokens,
    benignTokens,
    compounds,
    errorText: compoundSources.join('\n'),
    innermostFrames,
    recoveredMs,
  };
}
