// What every history backend shares before ranking: a query's features (from a text or a past
// incident), the words BM25 is asked for, the postings that find candidates by a shared name or
// message, and the filter values. Pure.
import { entitiesOf, errorSignaturesOf, failureModesOf, looksLikeError, normalizeSeverity, signatureTemplate, triggerKindOf } from './features.js';
import type { FeatureSet } from './rank.js';
import type { HistoryFilter, PastIncident } from './types.js';

export interface HistoryQuery {
  text: string;
  features: FeatureSet;
  /** leave this incident out (the one the query is about) */
  excludeId?: string;
}

const STOP = new Set(
  'the a an and or of to in on at for from by with was were is are be been this that it its as into after before during not no we our us they them their has had have which when while then than there these those all any also can could would should may might will one two new via per incident post mortem postmortem service services caused cause root'.split(' '),
);

/** The distinct words of a past incident, as searchTerms splits them (for document counts). */
export function documentTerms(p: PastIncident): Set<string> {
  const text = [p.title, p.services.join(' '), p.root_cause, p.summary, ...p.error_signatures, ...p.action_items.map((a) => a.title), p.files.join(' '), p.config_keys.join(' '), p.hosts.join(' '), p.body.slice(0, 6000)].join('\n');
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? []);
}

/** Distinct search terms of a text, stop words out, at most `max`. */
export function searchTerms(text: string, max = 32): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const t of text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? []) {
    if (STOP.has(t) || /^\d+$/.test(t) || seen.has(t)) continue;
    seen.add(t);
    out.push(t);
    if (out.length >= max) break;
  }
  return out;
}

/** Upper bound on the documents one BM25 pass scores (the sum of its terms' document counts). */
export const MAX_BM25_POSTINGS = 5_000;

/**
 * The query terms worth a BM25 pass: rarest first, until their postings would make the pass
 * costly. A word most past incidents contain ("minutes", "errors") ranks nothing and would make
 * the full-text engine score every document. `df` is a term's document count (0: unknown).
 */
export function selectTerms(terms: string[], df: ReadonlyMap<string, number>): string[] {
  if (terms.length <= 1) return terms;
  const ranked = terms.filter((t) => (df.get(t) ?? 0) > 0).sort((a, b) => df.get(a)! - df.get(b)!);
  const out: string[] = [];
  let postings = 0;
  for (const t of ranked) {
    const n = df.get(t)!;
    if (out.length >= 1 && postings + n > MAX_BM25_POSTINGS) break;
    out.push(t);
    postings += n;
  }
  return out;
}

export function featuresOf(p: PastIncident): FeatureSet {
  return {
    services: p.services,
    failure_modes: p.failure_modes,
    error_signatures: p.error_signatures,
    files: p.files,
    config_keys: p.config_keys,
    hosts: p.hosts,
    trigger_kind: p.trigger_kind,
  };
}

/** The posting features that generate candidates beside BM25: specific enough to be rare. */
export function postings(f: FeatureSet): Array<[string, string]> {
  return [
    ...f.error_signatures.map((v) => ['sig', v] as [string, string]),
    ...f.files.map((v) => ['file', v] as [string, string]),
    ...f.config_keys.map((v) => ['key', v] as [string, string]),
    ...f.hosts.map((v) => ['host', v] as [string, string]),
  ];
}

/** Lower-cased title, services and root cause: the text ranking reads shared words from. */
export function rankText(p: PastIncident): string {
  return `${p.title}\n${p.services.join(' ')}\n${p.root_cause}`.toLowerCase().slice(0, 4000);
}

/** Everything else full-text search indexes, beside title, services and root cause. */
export function bodyText(p: PastIncident): string {
  return [p.summary, ...p.error_signatures, ...p.action_items.map((a) => a.title), p.files.join(' '), p.config_keys.join(' '), p.hosts.join(' '), p.body].join('\n');
}

/** A free-text query's features: error signatures, names, failure modes, services the history knows. */
export function queryFromText(text: string, knownServices: ReadonlySet<string>): HistoryQuery {
  const lower = text.toLowerCase();
  const entities = entitiesOf(text, /`/.test(text) ? [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) : []);
  const signatures = errorSignaturesOf([], text);
  if (looksLikeError(text) && text.length <= 300) signatures.push(signatureTemplate(text));
  const words = lower.match(/[a-z0-9][a-z0-9_-]*[a-z0-9]/g) ?? [];
  const services = [...new Set(words.filter((w) => knownServices.has(w)))];
  return {
    text,
    features: {
      services,
      failure_modes: failureModesOf(text),
      error_signatures: [...new Set(signatures)],
      files: entities.files,
      config_keys: entities.config_keys,
      hosts: entities.hosts,
      trigger_kind: triggerKindOf(text),
    },
  };
}

export function queryFromIncident(p: PastIncident): HistoryQuery {
  return { text: `${p.title}\n${p.summary}\n${p.root_cause}\n${p.error_signatures.join('\n')}`, features: featuresOf(p), excludeId: p.id };
}

/** A filter's values as the indexes compare them (normalised service and severity, inclusive day bounds). */
export function filterValues(filter: HistoryFilter): { service?: string; from?: string; to?: string; severity?: string } {
  const out: { service?: string; from?: string; to?: string; severity?: string } = {};
  if (filter.service) out.service = filter.service.trim().toLowerCase().replace(/\s+/g, '-');
  if (filter.from) out.from = filter.from;
  // a date-only bound includes that whole day
  if (filter.to) out.to = /^\d{4}-\d\d-\d\d$/.test(filter.to) ? `${filter.to}T99` : filter.to;
  if (filter.severity) out.severity = normalizeSeverity(filter.severity) ?? filter.severity.toLowerCase();
  return out;
}

/** IDF of a feature from its document count, normalised to [0.1, 1]. */
export function featureRarity(total: number, df: number): number {
  const n = Math.max(1, df);
  const t = Math.max(2, total);
  return Math.min(1, Math.max(0.1, Math.log(t / n) / Math.log(t)));
}
