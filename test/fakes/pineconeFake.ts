// A loopback stand-in for Pinecone with integrated inference, speaking the REST shapes the
// official SDK (@pinecone-database/pinecone) uses, so tests point the real SDK at it through its
// host settings (controllerHostUrl; the data-plane host comes from describe_index as in the cloud):
//   POST /indexes/create-for-model        {name, cloud, region, embed: {model, field_map, metric?}}
//   GET  /indexes/{name}                  IndexModel (404 when absent)
//   GET  /indexes                         {indexes: [...]}
//   POST /data/{name}/records/namespaces/{ns}/upsert   NDJSON records (the embedded field from field_map)
//   POST /data/{name}/records/namespaces/{ns}/search   {query: {top_k, inputs: {text}, filter}, fields}
// Embedding is a stand-in: dense models hash words into a 256-dimension unit vector (cosine);
// sparse models weigh shared words (dot product of term counts). Metadata filters support $eq,
// $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $and, $or, and implicit equality; a list field
// matches $eq/$in when any element does, as in Pinecone.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>;

export interface PineconeFakeRequest {
  method: string;
  path: string;
  /** the namespace of a data-plane call */
  namespace?: string;
  /** records in an upsert batch */
  records?: number;
}

interface IndexState {
  model: Json;
  sparse: boolean;
  field: string;
  /** namespace -> id -> record */
  namespaces: Map<string, Map<string, Json>>;
}

export interface PineconeFake {
  url: string;
  requests: PineconeFakeRequest[];
  /** the records of one namespace of an index */
  records(index: string, namespace: string): Json[];
  close(): Promise<void>;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
}

function dense(text: string): Float64Array {
  const v = new Float64Array(256);
  for (const w of words(text)) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % 256]! += 1;
  }
  const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0)) || 1;
  return v.map((x) => x / norm);
}

function counts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of words(text)) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

function matches(meta: Json, filter: Json | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$and') return (cond as Json[]).every((f) => matches(meta, f));
    if (key === '$or') return (cond as Json[]).some((f) => matches(meta, f));
    const value = meta[key];
    const ops: Json = cond !== null && typeof cond === 'object' && !Array.isArray(cond) ? cond : { $eq: cond };
    const values: unknown[] = Array.isArray(value) ? value : [value];
    return Object.entries(ops).every(([op, arg]) => {
      switch (op) {
        case '$eq': return values.includes(arg);
        case '$ne': return !values.includes(arg);
        case '$in': return values.some((v) => (arg as unknown[]).includes(v));
        case '$nin': return !values.some((v) => (arg as unknown[]).includes(v));
        case '$gt': return typeof value === 'number' && value > arg;
        case '$gte': return typeof value === 'number' && value >= arg;
        case '$lt': return typeof value === 'number' && value < arg;
        case '$lte': return typeof value === 'number' && value <= arg;
        case '$exists': return (value !== undefined) === arg;
        default: throw new Error(`unsupported filter operator ${op}`);
      }
    });
  });
}

export async function createPineconeFake(options: { apiKey: string }): Promise<PineconeFake> {
  const indexes = new Map<string, IndexState>();
  const requests: PineconeFakeRequest[] = [];
  let url = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string, message: string) => send(res, status, { error: { code, message }, status });

  const model = (name: string, s: IndexState) => ({
    name,
    metric: s.sparse ? 'dotproduct' : 'cosine',
    ...(s.sparse ? {} : { dimension: 1024 }),
    host: `${url}/data/${name}`,
    deletion_protection: 'disabled',
    tags: {},
    embed: s.model,
    spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
    status: { ready: true, state: 'Ready' },
    vector_type: s.sparse ? 'sparse' : 'dense',
  });

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rec: PineconeFakeRequest = { method: req.method ?? 'GET', path: u.pathname };
      requests.push(rec);
      if (req.headers['api-key'] !== options.apiKey) return error(res, 401, 'UNAUTHENTICATED', 'Invalid API Key');
      const raw = Buffer.concat(chunks).toString('utf8');
      const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      try {
        if (parts[0] === 'indexes') {
          if (parts[1] === 'create-for-model' && req.method === 'POST') {
            const body = JSON.parse(raw) as Json;
            if (indexes.has(body.name)) return error(res, 409, 'ALREADY_EXISTS', `Resource ${body.name} already exists`);
            const embed = body.embed ?? {};
            const field = Object.values(embed.field_map ?? {})[0] as string | undefined;
            if (!field) return error(res, 400, 'INVALID_ARGUMENT', 'embed.field_map is required');
            const sparse = /sparse/.test(String(embed.model));
            const state: IndexState = { model: { model: embed.model, metric: sparse ? 'dotproduct' : 'cosine', field_map: embed.field_map, ...(sparse ? {} : { dimension: 1024 }), vector_type: sparse ? 'sparse' : 'dense' }, sparse, field, namespaces: new Map() };
            indexes.set(body.name, state);
            return send(res, 201, model(body.name, state));
          }
          if (parts.length === 1 && req.method === 'GET') return send(res, 200, { indexes: [...indexes].map(([n, s]) => model(n, s)) });
          const s = indexes.get(parts[1]!);
          if (!s) return error(res, 404, 'NOT_FOUND', `Resource ${parts[1]} not found`);
          return send(res, 200, model(parts[1]!, s));
        }
        if (parts[0] === 'data' && parts[2] === 'records' && parts[3] === 'namespaces') {
          const s = indexes.get(parts[1]!);
          if (!s) return error(res, 404, 'NOT_FOUND', 'index not found');
          const ns = parts[4]!;
          rec.namespace = ns;
          let space = s.namespaces.get(ns);
          if (!space) s.namespaces.set(ns, (space = new Map()));
          if (parts[5] === 'upsert') {
            const records = raw.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Json);
            rec.records = records.length;
            if (records.length > 96) return error(res, 400, 'INVALID_ARGUMENT', 'Batch size exceeds 96 records');
            for (const r of records) {
              const id = r._id ?? r.id;
              if (typeof r[s.field] !== 'string') return error(res, 400, 'INVALID_ARGUMENT', `Missing ${s.field} field`);
              space.set(String(id), r);
            }
            res.writeHead(201);
            return res.end();
          }
          if (parts[5] === 'search') {
            const body = JSON.parse(raw) as Json;
            const q = body.query ?? {};
            const text = String(q.inputs?.text ?? '');
            const topK = Number(q.top_k ?? 10);
            const qd = dense(text);
            const qc = counts(text);
            const hits = [...space.values()]
              .filter((r) => matches(r, q.filter))
              .map((r) => {
                const t = String(r[s.field]);
                let score = 0;
                if (s.sparse) {
                  const c = counts(t);
                  for (const [w, n] of qc) score += n * Math.log(1 + (c.get(w) ?? 0));
                } else {
                  const d = dense(t);
                  for (let i = 0; i < 256; i++) score += qd[i]! * d[i]!;
                }
                return { r, score };
              })
              .filter((h) => h.score > 0)
              .sort((a, b) => b.score - a.score)
              .slice(0, topK);
            const fields = body.fields as string[] | undefined;
            return send(res, 200, {
              result: {
                hits: hits.map(({ r, score }) => ({
                  _id: String(r._id ?? r.id),
                  _score: score,
                  fields: Object.fromEntries(Object.entries(r).filter(([k]) => k !== '_id' && k !== 'id' && (!fields || fields.includes(k)))),
                })),
              },
              usage: { read_units: 1, embed_total_tokens: words(text).length },
            });
          }
        }
        return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${u.pathname}`);
      } catch (err) {
        return error(res, 400, 'INVALID_ARGUMENT', (err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    records: (index, namespace) => [...(indexes.get(index)?.namespaces.get(namespace)?.values() ?? [])],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
