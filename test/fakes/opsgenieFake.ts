// A loopback Opsgenie REST API v2 (node:http on 127.0.0.1, port 0) for harvesting tests: it
// speaks the documented request and response shapes of the Alert API and can inject faults. It is
// built from data (an alert object, its logs and notes). opsgenieAlertFromBundle() makes the alert
// object from a bundle's `incident` section.
//
// What it implements:
//  - auth: `Authorization: GenieKey <key>`, anything else → 401 {"message":"Could not authenticate","took":…,"requestId":…}
//  - GET /v2/alerts/{identifier}?identifierType=id|tiny|alias (default id) → { data, took, requestId }
//  - GET /v2/alerts/{identifier}/logs and …/notes: `offset` (an item's opaque `offset`),
//    `direction` next|prev, `limit` (default 20, at most 100, and at most `pageSize`), `order`
//    asc|desc (default desc). The response is { data: [...], paging: { first, next? }, took,
//    requestId }, where `next` is a full URL on `linkBase` (default: the fake itself).
//  - GET /v2/alerts (list, used by the doctor) and GET /v2/account
//  - faults: rateLimitOnce (first request to each path → 429, Retry-After: 1), failWith5xx: n
//    (first n requests → 503), hangMs (every response delayed), down (every request → 500),
//    downPaths (requests to those paths → 500),
//    noReadRight (alert endpoints → 403, a key without the Read right).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFaults {
  rateLimitOnce?: boolean;
  retryAfterSeconds?: number;
  failWith5xx?: number;
  hangMs?: number;
  down?: boolean;
  /** requests to these paths always answer 500 */
  downPaths?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  at: number;
  status: number;
}

export interface OpsgenieLog {
  log: string;
  type: string;
  owner: string;
  createdAt: string;
  offset?: string;
  [key: string]: unknown;
}

export interface OpsgenieNote {
  note: string;
  owner: string;
  createdAt: string;
  offset?: string;
  [key: string]: unknown;
}

export interface OpsgenieFakeOptions {
  apiKey: string;
  /** the alert object served by GET /v2/alerts/{identifier} (`data`) */
  alert: Record<string, unknown>;
  /** oldest first, as they happened; items without `offset` get one */
  logs?: OpsgenieLog[];
  notes?: OpsgenieNote[];
  pageSize?: number;
  faults?: FakeFaults;
  /** alert endpoints answer 403 (an API key without the Read right) */
  noReadRight?: boolean;
  /** the origin written into paging links (default: the fake's own URL) */
  linkBase?: string;
}

export interface OpsgenieFake {
  url: string;
  requests: RecordedRequest[];
  requestsTo(path: string): RecordedRequest[];
  close(): Promise<void>;
}

interface BundleLike {
  incident: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The GET /v2/alerts/{id} `data` object for a bundle's incident: id, tinyId (incident_number),
 * message (title), status (resolved → closed), acknowledged, priority (severity when P1..P5),
 * tags (`service:<service>`), createdAt/updatedAt, report.ackTime/closeTime (milliseconds after
 * createdAt, as Opsgenie reports them).
 */
export function opsgenieAlertFromBundle(bundle: BundleLike): Record<string, unknown> {
  const inc = bundle.incident;
  const createdAt = new Date(Date.parse(String(inc.created_at))).toISOString();
  const createdMs = Date.parse(createdAt);
  const ack = str(inc.acknowledged_at);
  const resolved = str(inc.resolved_at);
  const closed = resolved !== null || /^(closed|resolved)$/i.test(String(inc.status ?? ''));
  const severity = str(inc.severity);
  const updated = resolved ?? ack ?? createdAt;
  return {
    id: String(inc.id),
    tinyId: typeof inc.incident_number === 'number' ? String(inc.incident_number) : '1',
    alias: `${String(inc.id)}-alias`,
    message: str(inc.title) ?? '',
    status: closed ? 'closed' : 'open',
    acknowledged: ack !== null,
    isSeen: true,
    tags: str(inc.service) ? [`service:${inc.service}`] : [],
    snoozed: false,
    count: 1,
    lastOccurredAt: createdAt,
    createdAt,
    updatedAt: new Date(Date.parse(updated)).toISOString(),
    source: 'API',
    owner: '',
    priority: severity && /^P[1-5]$/.test(severity) ? severity : 'P3',
    responders: [],
    integration: { id: 'fake-integration', name: 'API', type: 'API' },
    report: {
      ...(ack ? { ackTime: Date.parse(ack) - createdMs } : {}),
      ...(resolved ? { closeTime: Date.parse(resolved) - createdMs } : {}),
    },
    actions: [],
    entity: '',
    description: '',
    details: {},
  };
}

function parseQuery(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const all = search.getAll(key);
    out[key] = key.endsWith('[]') || all.length > 1 ? all : all[0]!;
  }
  return out;
}

export async function createOpsgenieFake(opts: OpsgenieFakeOptions): Promise<OpsgenieFake> {
  const faults = opts.faults ?? {};
  const pageSize = Math.max(1, opts.pageSize ?? 100);
  const withOffsets = <T extends { createdAt: string; offset?: string }>(items: T[]): T[] =>
    items.map((item, i) => (item.offset ? item : { ...item, offset: `${Date.parse(item.createdAt)}_${String(i).padStart(6, '0')}` }));
  const logs = withOffsets(opts.logs ?? []);
  const notes = withOffsets(opts.notes ?? []);
  const alert = opts.alert;
  const requests: RecordedRequest[] = [];
  const rateLimited = new Set<string>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let failuresLeft = faults.failWith5xx ?? 0;
  let base = '';

  const envelope = (extra: Record<string, unknown>) => ({ ...extra, took: 0.012, requestId: randomUUID() });
  const ogError = (message: string) => envelope({ message });
  const send = (res: ServerResponse, rec: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'X-Request-ID': randomUUID(), ...headers });
    res.end(text);
  };

  const matches = (identifier: string, type: string): boolean =>
    type === 'tiny' ? identifier === alert.tinyId : type === 'alias' ? identifier === alert.alias : identifier === alert.id;

  const page = (items: Array<{ offset?: string }>, path: string, query: Record<string, string | string[]>): { status: number; body: unknown } => {
    const limit = query.limit === undefined ? 20 : Number(query.limit);
    const order = query.order === undefined ? 'desc' : String(query.order);
    const direction = query.direction === undefined ? 'next' : String(query.direction);
    if (!Number.isInteger(limit) || limit < 1 || !['asc', 'desc'].includes(order) || !['next', 'prev'].includes(direction)) {
      return { status: 422, body: ogError('Invalid paging parameters') };
    }
    const ordered = order === 'asc' ? items : [...items].reverse();
    let start = 0;
    let end = ordered.length;
    if (query.offset !== undefined && query.offset !== '') {
      const at = ordered.findIndex((i) => i.offset === query.offset);
      if (at < 0) return { status: 422, body: ogError('Invalid offset') };
      if (direction === 'next') start = at + 1;
      else end = at;
    }
    const size = Math.min(limit, 100, pageSize);
    const slice = direction === 'next' ? ordered.slice(start, Math.min(end, start + size)) : ordered.slice(Math.max(start, end - size), end);
    const link = (offset: string | null) => {
      const u = new URL(path, opts.linkBase ?? base);
      if (query.identifierType !== undefined) u.searchParams.set('identifierType', String(query.identifierType));
      if (offset !== null) u.searchParams.set('offset', offset);
      u.searchParams.set('direction', 'next');
      u.searchParams.set('limit', String(limit));
      u.searchParams.set('order', order);
      return u.toString();
    };
    const last = slice[slice.length - 1];
    const more = direction === 'next' && last !== undefined && ordered.indexOf(last) < ordered.length - 1;
    return { status: 200, body: envelope({ data: slice, paging: { first: link(null), ...(more ? { next: link(last!.offset ?? '') } : {}) } }) };
  };

  const route = (method: string, path: string, query: Record<string, string | string[]>): { status: number; body: unknown } => {
    if (method !== 'GET') return { status: 405, body: ogError('Method Not Allowed') };
    if (path === '/v2/account') return { status: 200, body: envelope({ data: { name: 'fake-account', userCount: 3, plan: { maxUserCount: 5, name: 'Standard', isYearly: true } } }) };
    const denied = { status: 403, body: ogError('You are not authorized for this operation.') };
    if (path === '/v2/alerts') {
      if (opts.noReadRight) return denied;
      return { status: 200, body: envelope({ data: [alert].slice(0, Math.min(Number(query.limit ?? 20) || 20, 100)), paging: { first: `${opts.linkBase ?? base}/v2/alerts?limit=${query.limit ?? 20}` } }) };
    }
    const m = /^\/v2\/alerts\/([^/]+)(?:\/(logs|notes))?$/.exec(path);
    if (m) {
      if (opts.noReadRight) return denied;
      const type = query.identifierType === undefined ? 'id' : String(query.identifierType);
      if (!['id', 'tiny', 'alias'].includes(type)) return { status: 422, body: ogError('Invalid identifierType') };
      if (!matches(decodeURIComponent(m[1]!), type)) return { status: 404, body: ogError('Alert does not exist') };
      if (m[2] === 'logs') return page(logs, path, query);
      if (m[2] === 'notes') return page(notes, path, query);
      return { status: 200, body: envelope({ data: alert }) };
    }
    return { status: 404, body: ogError('Not Found') };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: parseQuery(url.searchParams), headers: { ...req.headers }, at: Date.now(), status: 0 };
    requests.push(rec);
    if (faults.hangMs && faults.hangMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, faults.hangMs);
        timers.set(t, resolve);
      });
    }
    if (faults.down || faults.downPaths?.includes(rec.path)) return send(res, rec, 500, ogError('Internal Server Error'));
    if (failuresLeft > 0) {
      failuresLeft--;
      return send(res, rec, 503, ogError('Service Unavailable'));
    }
    if (faults.rateLimitOnce && !rateLimited.has(rec.path)) {
      rateLimited.add(rec.path);
      const wait = String(faults.retryAfterSeconds ?? 1);
      return send(res, rec, 429, ogError('Too many requests'), { 'Retry-After': wait, 'X-RateLimit-State': 'THROTTLED', 'X-RateLimit-Reason': 'ACCOUNT', 'X-RateLimit-Period-In-Sec': wait });
    }
    if (req.headers.authorization !== `GenieKey ${opts.apiKey}`) return send(res, rec, 401, ogError('Could not authenticate'));
    const { status, body } = route(rec.method, rec.path, rec.query);
    send(res, rec, status, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const [t, release] of timers) {
          clearTimeout(t);
          release();
        }
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
