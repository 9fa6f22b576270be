// Similar-incident ranking: BM25 (from the index) fused with structured similarity, and the
// reasons a human reads in why_similar. Pure: the index hands in candidates, this scores them.
import { jaccard, templateWords } from './features.js';
import type { TriggerKind } from './types.js';

/** What ranking compares: the query incident's features, or those of a stored one. */
export interface FeatureSet {
  services: string[];
  failure_modes: string[];
  error_signatures: string[];
  files: string[];
  config_keys: string[];
  hosts: string[];
  trigger_kind: TriggerKind | null;
}

export interface Candidate {
  id: string;
  features: FeatureSet;
  /** raw BM25 from FTS5 (lower is better), or null when the candidate came from a shared feature only */
  bm25: number | null;
  /** lower-cased title, services and root cause, to say which query words it shares */
  text: string;
}

export interface Scored {
  id: string;
  score: number;
  why_similar: string[];
}

export const WEIGHTS = { signature: 2.5, entities: 2.5, modes: 1, service: 2, trigger: 0.5 } as const;

/**
 * How telling a shared feature is, in [0.1, 1], from how many stored incidents have it (IDF):
 * a file only two incidents name says more than a config key half of them do.
 */
export type Rarity = (kind: 'sig' | 'file' | 'key' | 'host', value: string) => number;
const ALL_RARE: Rarity = () => 1;
/** share of the fused score that comes from BM25; the rest is structured similarity */
export const TEXT_SHARE = 0.25;

const MODE_LABELS: Record<string, string> = {
  connection_pool: 'connection pool exhaustion', timeout: 'timeouts', memory: 'memory exhaustion', validation: 'rejected data',
  rate_limit: 'rate limiting', capacity: 'capacity shortfall', feature_flag: 'a feature flag', tls: 'TLS failures', network: 'network failures',
  upstream: 'a failing upstream dependency', database: 'database errors', auth: 'authorisation failures', crash: 'crashing processes',
  disk: 'disk exhaustion', dns: 'DNS resolution', certificate: 'certificates', cache: 'caching', queue: 'queue backlog',
  replication: 'replication or failover', lock: 'lock contention',
};

const TRIGGER_LABELS: Record<TriggerKind, string> = {
  deployment: 'a deployment', config_change: 'a configuration change', feature_flag: 'a feature flag change', infrastructure: 'an infrastructure change',
  dependency: 'a dependency failure', capacity: 'a load increase', expiry: 'an expiry', manual: 'a manual operation', none: 'no change (latent defect)',
};

function clip(text: string, max = 90): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Two templates' word overlap: half Jaccard, half the share of the shorter one that the longer
 * holds, so a message quoted in part (a search text) still meets its full form.
 */
export function templateSimilarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const small = Math.min(a.size, b.size);
  if (small < 2) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  const j = shared / (a.size + b.size - shared);
  return Math.min(0.99, 0.5 * j + 0.5 * (shared / small));
}

interface SignatureMatch {
  similarity: number;
  template: string;
}

function bestSignature(query: readonly string[], candidate: readonly string[], wordsCache: Map<string, Set<string>>, rarity: Rarity): SignatureMatch | null {
  let best: SignatureMatch | null = null;
  const words = (t: string) => {
    let w = wordsCache.get(t);
    if (!w) wordsCache.set(t, (w = templateWords(t)));
    return w;
  };
  const exact = new Set(query);
  for (const c of candidate) {
    if (exact.has(c)) return { similarity: Math.max(0.6, rarity('sig', c)), template: c };
    for (const q of query) {
      // a reworded message counts for less than the same one
      const s = 0.8 * templateSimilarity(words(q), words(c));
      if (s >= 0.48 && (!best || s > best.similarity)) best = { similarity: s, template: c };
    }
  }
  return best;
}

function shared(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(a);
  return b.filter((x) => set.has(x));
}

/** Structured similarity in [0, 1] and its reasons, for the features the query has. */
export function structuredSimilarity(
  q: FeatureSet,
  c: FeatureSet,
  queryText = '',
  candidateText = '',
  wordsCache = new Map<string, Set<string>>(),
  rarity: Rarity = ALL_RARE,
): { score: number; reasons: string[] } {
  let got = 0;
  let possible = 0;
  const reasons: Array<[number, string]> = [];
  if (q.error_signatures.length) {
    possible += WEIGHTS.signature;
    const m = bestSignature(q.error_signatures, c.error_signatures, wordsCache, rarity);
    if (m) {
      got += WEIGHTS.signature * m.similarity;
      reasons.push([WEIGHTS.signature * m.similarity, `${q.error_signatures.includes(m.template) ? 'same' : 'similar'} error message \`${clip(m.template)}\``]);
    }
  }
  const q_entities = q.files.length + q.config_keys.length + q.hosts.length;
  if (q_entities) {
    possible += WEIGHTS.entities;
    const files = shared(q.files, c.files);
    const keys = shared(q.config_keys, c.config_keys);
    const hosts = shared(q.hosts, c.hosts);
    const n = files.length + keys.length + hosts.length;
    if (n) {
      // noisy-or of the shared names' rarity
      let miss = 1;
      for (const f of files) miss *= 1 - rarity('file', f);
      for (const k of keys) miss *= 1 - rarity('key', k);
      for (const h of hosts) miss *= 1 - rarity('host', h);
      const s = 1 - miss;
      got += WEIGHTS.entities * s;
      const parts = [
        files.length ? `file${files.length > 1 ? 's' : ''} ${files.slice(0, 3).join(', ')}` : '',
        keys.length ? `config key${keys.length > 1 ? 's' : ''} ${keys.slice(0, 3).join(', ')}` : '',
        hosts.length ? `host${hosts.length > 1 ? 's' : ''} ${hosts.slice(0, 3).join(', ')}` : '',
      ].filter(Boolean);
      reasons.push([WEIGHTS.entities * s, `same ${parts.join('; ')}`]);
    }
  }
  if (q.failure_modes.length) {
    possible += WEIGHTS.modes;
    const both = shared(q.failure_modes, c.failure_modes);
    const s = jaccard(new Set(q.failure_modes), new Set(c.failure_modes));
    if (both.length) {
      got += WEIGHTS.modes * s;
      reasons.push([WEIGHTS.modes * s, `same failure mode: ${both.map((m) => MODE_LABELS[m] ?? m).join(', ')}`]);
    }
  }
  if (q.services.length) {
    possible += WEIGHTS.service;
    const both = shared(q.services, c.services);
    if (both.length) {
      got += WEIGHTS.service;
      reasons.push([WEIGHTS.service, `same service: ${both.join(', ')}`]);
    } else if (c.services.length === 0 && q.services.some((s) => s.length > 2 && candidateText.includes(s))) {
      // a write-up without service metadata that names the service in its title or root cause
      got += WEIGHTS.service * 0.8;
      reasons.push([WEIGHTS.service * 0.8, `about the same service: ${q.services.find((s) => candidateText.includes(s))}`]);
    } else {
      // one incident's service is the other's dependency when it names it
      const named = c.services.find((s) => s.length > 2 && queryText.includes(s));
      if (named) {
        got += WEIGHTS.service * 0.5;
        reasons.push([WEIGHTS.service * 0.5, `involves the same dependency: ${named}`]);
      }
    }
  }
  if (q.trigger_kind && q.trigger_kind !== 'none') {
    possible += WEIGHTS.trigger;
    if (q.trigger_kind === c.trigger_kind) {
      got += WEIGHTS.trigger;
      reasons.push([WEIGHTS.trigger, `same trigger kind: ${TRIGGER_LABELS[q.trigger_kind]}`]);
    }
  }
  return { score: possible ? got / possible : 0, reasons: reasons.sort((a, b) => b[0] - a[0]).map(([, r]) => r) };
}

/** Query words (already lower-cased, stop words out) that the candidate's text contains. */
function sharedTerms(terms: readonly string[], text: string): string[] {
  return terms.filter((t) => t.length > 3 && text.includes(t)).slice(0, 4);
}

/** Fused ranking: BM25 relative to the best hit, blended with structured similarity. */
export function rankCandidates(
  query: FeatureSet,
  queryText: string,
  terms: readonly string[],
  candidates: readonly Candidate[],
  limit: number,
  rarity: Rarity = ALL_RARE,
): Scored[] {
  const best = Math.min(-1e-9, ...candidates.map((c) => c.bm25 ?? 0));
  const hasStructure =
    query.error_signatures.length + query.files.length + query.config_keys.length + query.hosts.length + query.failure_modes.length + query.services.length > 0 ||
    (query.trigger_kind !== null && query.trigger_kind !== 'none');
  const textShare = hasStructure ? TEXT_SHARE : 1;
  const cache = new Map<string, Set<string>>();
  const lowerQuery = queryText.toLowerCase();
  const scored = candidates.map((c) => {
    const text = c.bm25 === null ? 0 : Math.min(1, c.bm25 / best);
    const s = structuredSimilarity(query, c.features, lowerQuery, c.text, cache, rarity);
    const score = textShare * text + (1 - textShare) * s.score;
    const why = [...s.reasons];
    const words = sharedTerms(terms, c.text);
    if (words.length) why.push(`shares the words ${words.map((w) => `"${w}"`).join(', ')}`);
    return { id: c.id, score: Number(score.toFixed(4)), why_similar: why };
  });
  return scored
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    .slice(0, limit);
}
