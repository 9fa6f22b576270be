// The Pinecone backend of the history, used when PINECONE_API_KEY is set: two indexes with
// integrated inference (Pinecone embeds the text itself), one dense and one sparse for hybrid
// search, one namespace per organisation or team, metadata for service/date/severity filters and
// for the structured features, so the same fused ranking and why_similar apply to its results.
// Index creation is explicit (`hindsight history init-index`); upserts are batched and idempotent
// (records are keyed by incident id). The embedded SQLite history stays the default.
import { Pinecone } from '@pinecone-database/pinecone';
import { rankCandidates, type Candidate, type FeatureSet } from './rank.js';
import { searchTerms, type HistoryQuery } from './sqliteIndex.js';
import { normalizeSeverity } from './features.js';
import type { HistoryFilter, PastIncident, SimilarPast } from './types.js';

export const DENSE_MODEL = 'llama-text-embed-v2';
export const SPARSE_MODEL = 'pinecone-sparse-english-v0';
/** integrated-inference upserts take at most 96 records per request */
export const UPSERT_BATCH = 96;
const TEXT_FIELD = 'text';
/** metadata values are capped (40 KB a record); the stored incident leaves its long text out */
const RECORD_JSON_MAX = 30_000;

export interface PineconeSettings {
  apiKey: string;
  /** base name; the sparse index is "<index>-sparse" */
  index: string;
  /** one per organisation or team */
  namespace: string;
  cloud: string;
  region: string;
  /** the control-plane URL (tests: the loopback stand-in) */
  controllerHostUrl?: string;
}

export class PineconeConfigError extends Error {
  override name = 'ConfigError';
}

export function pineconeSettings(env: NodeJS.ProcessEnv): PineconeSettings | null {
  const apiKey = env.PINECONE_API_KEY?.trim();
  if (!apiKey) return null;
  const index = (env.PINECONE_INDEX ?? 'hindsight-history').trim();
  if (!/^[a-z0-9]([a-z0-9-]{0,36}[a-z0-9])?$/.test(index)) throw new PineconeConfigError(`PINECONE_INDEX: lower-case letters, digits and '-', at most 38 characters (got "${index}")`);
  const namespace = (env.PINECONE_NAMESPACE ?? env.HINDSIGHT_TEAM ?? 'default').trim() || 'default';
  const controller = env.PINECONE_CONTROLLER_URL?.trim();
  return { apiKey, index, namespace, cloud: (env.PINECONE_CLOUD ?? 'aws').trim(), region: (env.PINECONE_REGION ?? 'us-east-1').trim(), ...(controller ? { controllerHostUrl: controller } : {}) };
}

function dayNumber(date: string | null): number | null {
  if (!date) return null;
  const ms = Date.parse(date.length === 10 ? `${date}T00:00:00Z` : date);
  return Number.isNaN(ms) ? null : Math.floor(ms / 86_400_000);
}

/** The text Pinecone embeds: what a reader would compare. */
function embeddedText(p: PastIncident): string {
  return [p.title, p.services.join(' '), p.summary, p.root_cause, ...p.error_signatures, ...p.action_items.map((a) => a.title)].join('\n').slice(0, 8000);
}

function recordOf(p: PastIncident): Record<string, string | number | string[]> {
  const { body: _body, ...rest } = p;
  let json = JSON.stringify(rest);
  if (json.length > RECORD_JSON_MAX) json = JSON.stringify({ ...rest, summary: rest.summary.slice(0, 2000), root_cause: rest.root_cause.slice(0, 4000), action_items: rest.action_items.slice(0, 20) });
  const record: Record<string, string | number | string[]> = {
    _id: p.id,
    [TEXT_FIELD]: embeddedText(p),
    title: p.title.slice(0, 300),
    services: p.services,
    severity: p.severity ?? 'unknown',
    trigger_kind: p.trigger_kind ?? 'unknown',
    failure_modes: p.failure_modes,
    error_signatures: p.error_signatures.slice(0, 20),
    files: p.files.slice(0, 50),
    config_keys: p.config_keys.slice(0, 50),
    hosts: p.hosts.slice(0, 50),
    record_json: json,
  };
  const day = dayNumber(p.date);
  if (day !== null) record.day = day;
  return record;
}

function filterOf(filter: HistoryFilter): object | undefined {
  const clauses: object[] = [];
  if (filter.service) clauses.push({ services: { $in: [filter.service.trim().toLowerCase().replace(/\s+/g, '-')] } });
  const from = dayNumber(filter.from ?? null);
  const to = dayNumber(filter.to ?? null);
  if (from !== null) clauses.push({ day: { $gte: from } });
  if (to !== null) clauses.push({ day: { $lte: to } });
  if (filter.severity) clauses.push({ severity: { $eq: normalizeSeverity(filter.severity) ?? filter.severity.toLowerCase() } });
  return clauses.length === 0 ? undefined : clauses.length === 1 ? clauses[0] : { $and: clauses };
}

interface Hit {
  _id: string;
  _score: number;
  fields: Record<string, unknown>;
}

export class PineconeHistory {
  private readonly client: Pinecone;

  constructor(private readonly settings: PineconeSettings) {
    this.client = new Pinecone({ apiKey: settings.apiKey, ...(settings.controllerHostUrl ? { controllerHostUrl: settings.controllerHostUrl } : {}) });
  }

  private names(): { dense: string; sparse: string } {
    return { dense: this.settings.index, sparse: `${this.settings.index}-sparse` };
  }

  /** Creates the dense and sparse indexes when absent; returns which were created. */
  async initIndex(): Promise<{ created: string[]; existing: string[] }> {
    const out = { created: [] as string[], existing: [] as string[] };
    for (const [name, model] of [[this.names().dense, DENSE_MODEL], [this.names().sparse, SPARSE_MODEL]] as const) {
      const exists = await this.client.describeIndex(name).then(() => true, (err: Error) => {
        if (err.name === 'PineconeNotFoundError') return false;
        throw err;
      });
      if (exists) {
        out.existing.push(name);
        continue;
      }
      await this.client.createIndexForModel({
        name,
        cloud: this.settings.cloud as 'aws',
        region: this.settings.region,
        embed: { model, fieldMap: { text: TEXT_FIELD } },
        waitUntilReady: true,
        suppressConflicts: true,
      });
      out.created.push(name);
    }
    return out;
  }

  /** What stops the indexes from serving: absent, not ready, no integrated model (for doctor). Auth errors throw. */
  async check(): Promise<string[]> {
    const problems: string[] = [];
    for (const name of Object.values(this.names())) {
      try {
        const model = await this.client.describeIndex(name);
        if (!model.status?.ready) problems.push(`index ${name} is not ready (${model.status?.state ?? 'unknown'})`);
        if (!model.embed) problems.push(`index ${name} has no integrated embedding model (create it with hindsight history init-index)`);
      } catch (err) {
        if ((err as Error).name !== 'PineconeNotFoundError') throw err;
        problems.push(`index ${name} does not exist (run hindsight history init-index)`);
      }
    }
    return problems;
  }

  /** Upserts in batches of 96 per index; the same incident again replaces its record. */
  async upsert(incidents: readonly PastIncident[]): Promise<number> {
    const records = incidents.map(recordOf);
    for (const name of Object.values(this.names())) {
      const ns = this.client.index(name).namespace(this.settings.namespace);
      for (let i = 0; i < records.length; i += UPSERT_BATCH) await ns.upsertRecords({ records: records.slice(i, i + UPSERT_BATCH) as never });
    }
    return records.length;
  }

  private async searchOne(name: string, text: string, topK: number, filter: object | undefined): Promise<Hit[]> {
    const ns = this.client.index(name).namespace(this.settings.namespace);
    const res = await ns.searchRecords({ query: { topK, inputs: { text }, ...(filter ? { filter } : {}) }, fields: ['title', 'services', 'record_json'] });
    return (res.result?.hits ?? []) as unknown as Hit[];
  }

  /**
   * Dense and sparse matches of the query text, plus incidents that share a name or error
   * message with it (a metadata filter), fused with structured similarity as in the embedded
   * history.
   */
  async search(query: HistoryQuery, filter: HistoryFilter = {}, limit = 5): Promise<SimilarPast[]> {
    const base = filterOf(filter);
    const f = query.features;
    const shared = [
      f.error_signatures.length ? { error_signatures: { $in: f.error_signatures.slice(0, 20) } } : null,
      f.files.length ? { files: { $in: f.files.slice(0, 20) } } : null,
      f.config_keys.length ? { config_keys: { $in: f.config_keys.slice(0, 20) } } : null,
      f.hosts.length ? { hosts: { $in: f.hosts.slice(0, 20) } } : null,
    ].filter((x): x is NonNullable<typeof x> => x !== null);
    const byFeature = shared.length ? { $or: shared } : null;
    const exclude = query.excludeId ? { _excluded: query.excludeId } : null;
    const pool = Math.max(50, limit * 10);
    const { dense, sparse } = this.names();
    const [denseHits, sparseHits, featureHits] = await Promise.all([
      this.searchOne(dense, query.text, pool, base),
      this.searchOne(sparse, query.text, pool, base),
      byFeature ? this.searchOne(dense, query.text, pool, base ? { $and: [base, byFeature] } : byFeature) : Promise.resolve([]),
    ]);
    // the text part of the fusion: dense and sparse scores, each relative to its best hit
    const text = new Map<string, number>();
    const records = new Map<string, Hit>();
    for (const hits of [denseHits, sparseHits]) {
      const best = Math.max(1e-9, ...hits.map((h) => h._score));
      for (const h of hits) {
        text.set(h._id, (text.get(h._id) ?? 0) + (0.5 * h._score) / best);
        records.set(h._id, h);
      }
    }
    for (const h of featureHits) if (!records.has(h._id)) records.set(h._id, h);
    const incidents = new Map<string, PastIncident>();
    const candidates: Candidate[] = [];
    for (const [id, hit] of records) {
      if (exclude && id === exclude._excluded) continue;
      const json = hit.fields.record_json;
      if (typeof json !== 'string') continue;
      const p = JSON.parse(json) as PastIncident;
      incidents.set(id, { ...p, body: '' });
      const features: FeatureSet = { services: p.services, failure_modes: p.failure_modes, error_signatures: p.error_signatures, files: p.files, config_keys: p.config_keys, hosts: p.hosts, trigger_kind: p.trigger_kind };
      const t = text.get(id);
      // rank.ts reads BM25-like scores: lower is better, relative to the best
      candidates.push({ id, features, bm25: t === undefined ? null : -t, text: `${p.title}\n${p.services.join(' ')}\n${p.root_cause}`.toLowerCase() });
    }
    return rankCandidates(f, query.text, searchTerms(query.text), candidates, limit).map((r) => ({ incident: incidents.get(r.id)!, score: r.score, why_similar: r.why_similar }));
  }
}

/** `hindsight doctor`'s line for the Pinecone history: the key works and both indexes are ready. */
export async function pineconeDoctorCheck(settings: PineconeSettings): Promise<import('../harvest/doctorTypes.js').DoctorCheck> {
  const history = new PineconeHistory(settings);
  try {
    const problems = await history.check();
    return {
      source: 'pinecone',
      configured: true,
      reachable: true,
      authorized: true,
      // an index that is absent or not ready makes the history unusable, like a missing permission
      missing: problems,
      detail: problems.length ? 'the history indexes are not usable' : `indexes ${settings.index} and ${settings.index}-sparse ready (namespace ${settings.namespace})`,
    };
  } catch (err) {
    const e = err as Error;
    const unauthorized = e.name === 'PineconeAuthorizationError';
    return { source: 'pinecone', configured: true, reachable: unauthorized, authorized: unauthorized ? false : null, missing: [], detail: e.message.split('\n')[0]!.slice(0, 200) };
  }
}
