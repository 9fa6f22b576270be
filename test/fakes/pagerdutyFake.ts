// A loopback PagerDuty REST API v2 (node:http on 127.0.0.1, port 0) for harvesting tests: it
// speaks the documented request and response shapes and can inject faults. It is built from data
// (a PagerDuty incident object, log entries, alerts). pagerdutyIncidentFromBundle() makes the
// incident object from a bundle's `incident` section.
//
// What it implements:
//  - auth: `Authorization: Token token=<token>`, anything else → 401 {"error":{"message":"Unauthorized","code":2006}}
//  - GET /abilities, GET /incidents (list), GET /incidents/{id},
//    GET /incidents/{id}/log_entries, GET /incidents/{id}/alerts,
//    GET /incidents/{id}/related_change_events (`limit` only, as documented; each event carries
//    `correlation_reason`), GET /change_events (`since`/`until` must be UTC "YYYY-MM-DDThh:mm:ssZ",
//    else 400; newest first; offset + limit past 10 000 is a 400, like classic pagination),
//    GET /service_dependencies/technical_services/{id} (relationships in both directions)
//  - classic pagination: `limit` (default 25, at most 100, and at most `pageSize`), `offset`,
//    responses with `limit`, `offset`, `more`, and `total` (null unless `total=true`)
//  - log entries: approximations of PagerDuty's filters, so that a client that leaves them out
//    gets different data. Without `include[]=channels` each channel is cut down to its `type`;
//    with `is_overview=true` notify entries are left out. `time_zone` is recorded but times are
//    served as stored.
//  - faults: rateLimitOnce (first request to each path → 429, Retry-After: 1), failWith5xx: n
//    (first n requests → 503), hangMs (every response delayed), down (every request → 500),
//    downPaths (requests to those paths → 500),
//    forbidIncidents (incident endpoints → 403, for the doctor's missing-permission case),
//    forbidChangeEvents (GET /change_events → 403: a scoped token without change_events.read).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFaults {
  /** the first request to each path answers 429 with Retry-After (seconds, default 1) */
  rateLimitOnce?: boolean;
  retryAfterSeconds?: number;
  /** the first n requests answer 503 */
  failWith5xx?: number;
  /** every response waits this long (to trigger client timeouts) */
  hangMs?: number;
  /** every request answers 500 */
  down?: boolean;
  /** requests to these paths always answer 500 */
  downPaths?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** query parameters; repeated keys and keys ending in `[]` are arrays */
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  /** Date.now() when the request arrived */
  at: number;
  /** the status answered (0 until answered) */
  status: number;
}

export interface PagerDutyFakeOptions {
  token: string;
  /** the PagerDuty incident object served by GET /incidents/{id} */
  incident: Record<string, unknown>;
  logEntries?: unknown[];
  alerts?: unknown[];
  /** the largest page served, whatever `limit` asks (to exercise pagination) */
  pageSize?: number;
  faults?: FakeFaults;
  /** incident endpoints answer 403 (a token without read access to incidents) */
  forbidIncidents?: boolean;
  /** every change event of the account, served by GET /change_events within since/until */
  changeEvents?: unknown[];
  /** GET /incidents/{id}/related_change_events, in the order given (correlation_reason included) */
  relatedChangeEvents?: unknown[];
  /** service dependencies: each supporting → dependent pair of service ids */
  dependencies?: Array<{ supporting: string; dependent: string }>;
  /** GET /change_events answers 403 */
  forbidChangeEvents?: boolean;
}

export interface PagerDutyFake {
  /** base URL, e.g. http://127.0.0.1:40123 (no trailing slash) */
  url: string;
  requests: RecordedRequest[];
  /** requests to one path (without the query) */
  requestsTo(path: string): RecordedRequest[];
  close(): Promise<void>;
}

interface BundleLike {
  incident: Record<string, unknown>;
  sources?: { pagerduty?: { log_entries?: unknown[] } | null } | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The GET /incidents/{id} object for a bundle's incident: id, incident_number, title, status,
 * urgency, created_at, service, priority (from severity), html_url, resolved_at,
 * last_status_change_at and acknowledgements (from acknowledged_at). The service reference is
 * taken from the log entries when they carry one.
 */
export function pagerdutyIncidentFromBundle(bundle: BundleLike): Record<string, unknown> {
  const inc = bundle.incident;
  const id = String(inc.id);
  const number = typeof inc.incident_number === 'number' ? inc.incident_number : null;
  const title = str(inc.title) ?? '';
  const createdAt = String(inc.created_at);
  const acknowledgedAt = str(inc.acknowledged_at);
  const resolvedAt = str(inc.resolved_at);
  const status = str(inc.status) ?? (resolvedAt ? 'resolved' : acknowledgedAt ? 'acknowledged' : 'triggered');
  const fromLog = (bundle.sources?.pagerduty?.log_entries ?? [])
    .map((e) => (e && typeof e === 'object' ? (e as { service?: unknown }).service : undefined))
    .find((s): s is Record<string, unknown> => !!s && typeof s === 'object' && (s as { summary?: unknown }).summary === inc.service);
  const service = fromLog ?? (str(inc.service) ? { id: 'PFAKESV', type: 'service_reference', summary: inc.service } : null);
  const ackAgent = (bundle.sources?.pagerduty?.log_entries ?? [])
    .filter((e): e is { type?: unknown; agent?: unknown } => !!e && typeof e === 'object')
    .find((e) => e.type === 'acknowledge_log_entry')?.agent;
  return {
    id,
    type: 'incident',
    summary: number !== null ? `[#${number}] ${title}` : title,
    incident_number: number,
    title,
    status,
    urgency: str(inc.urgency) ?? 'high',
    created_at: createdAt,
    updated_at: resolvedAt ?? acknowledgedAt ?? createdAt,
    last_status_change_at: resolvedAt ?? acknowledgedAt ?? createdAt,
    resolved_at: resolvedAt,
    service,
    priority: str(inc.severity) ? { id: 'PFAKEPR', type: 'priority_reference', summary: inc.severity } : null,
    acknowledgements: acknowledgedAt ? [{ at: acknowledgedAt, acknowledger: ackAgent ?? { type: 'user_reference', summary: 'on-call responder' } }] : [],
    html_url: str(inc.url),
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

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export async function createPagerDutyFake(opts: PagerDutyFakeOptions): Promise<PagerDutyFake> {
  const faults = opts.faults ?? {};
  const pageSize = Math.max(1, opts.pageSize ?? 100);
  const logEntries = opts.logEntries ?? [];
  const alerts = opts.alerts ?? [];
  const timeOf = (e: unknown) => Date.parse(String((e as { timestamp?: unknown } | null)?.timestamp ?? ''));
  const changeEvents = [...(opts.changeEvents ?? [])].sort((a, b) => timeOf(b) - timeOf(a));
  const dependencies = opts.dependencies ?? [];
  const incidentId = String(opts.incident.id);
  const requests: RecordedRequest[] = [];
  const rateLimited = new Set<string>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let failuresLeft = faults.failWith5xx ?? 0;

  const send = (res: ServerResponse, rec: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const pdError = (message: string, code?: number, errors?: string[]) => ({ error: { message, ...(code !== undefined ? { code } : {}), ...(errors ? { errors } : {}) } });

  const page = (items: unknown[], key: string, query: Record<string, string | string[]>): { status: number; body: unknown } => {
    const limitRaw = query.limit === undefined ? '25' : String(query.limit);
    const offsetRaw = query.offset === undefined ? '0' : String(query.offset);
    const limit = Number(limitRaw);
    const offset = Number(offsetRaw);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
      return { status: 400, body: pdError('Invalid Input Provided', 2001, ['limit and offset must be non-negative integers']) };
    }
    const served = Math.min(limit, 100, pageSize);
    const slice = items.slice(offset, offset + served);
    return {
      status: 200,
      body: { [key]: slice, limit: served, offset, more: offset + slice.length < items.length, total: query.total === 'true' ? items.length : null },
    };
  };

  const shapeLogEntries = (query: Record<string, string | string[]>): unknown[] => {
    const withChannels = asList(query['include[]']).includes('channels');
    const overview = query.is_overview === 'true';
    return logEntries
      .filter((e) => !(overview && e && typeof e === 'object' && (e as { type?: unknown }).type === 'notify_log_entry'))
      .map((e) => {
        if (withChannels || !e || typeof e !== 'object') return e;
        const channel = (e as { channel?: unknown }).channel;
        if (!channel || typeof channel !== 'object') return e;
        return { ...(e as object), channel: { type: (channel as { type?: unknown }).type } };
      });
  };

  const route = (method: string, path: string, query: Record<string, string | string[]>): { status: number; body: unknown } => {
    if (method !== 'GET') return { status: 405, body: pdError('Method Not Allowed') };
    if (path === '/abilities') return { status: 200, body: { abilities: ['teams', 'read_only_users', 'urgencies', 'event_rules'] } };
    const forbidden = { status: 403, body: pdError('Access Denied', 2010, ['The token lacks read access to incidents']) };
    if (path === '/incidents') {
      if (opts.forbidIncidents) return forbidden;
      // statuses[] filters the list, as the API does; the incident's status can change over time
      const statuses = asList(query['statuses[]']);
      const list = [opts.incident].filter((i) => statuses.length === 0 || statuses.includes(String((i as { status?: unknown }).status)));
      return page(list, 'incidents', query);
    }
    if (path === '/change_events') {
      if (opts.forbidChangeEvents) return { status: 403, body: pdError('Access Denied', 2010, ['The token lacks change_events.read']) };
      const utc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
      for (const key of ['since', 'until'] as const) {
        const v = query[key];
        if (v !== undefined && (typeof v !== 'string' || !utc.test(v))) return { status: 400, body: pdError('Invalid Input Provided', 2001, [`${key} must be a UTC ISO 8601 datetime`]) };
      }
      const since = typeof query.since === 'string' ? Date.parse(query.since) : -Infinity;
      const until = typeof query.until === 'string' ? Date.parse(query.until) : Infinity;
      if (Number(query.offset ?? 0) + Number(query.limit ?? 25) > 10_000) return { status: 400, body: pdError('Invalid Input Provided', 2001, ['Offset must be less than 10000']) };
      return page(changeEvents.filter((e) => timeOf(e) >= since && timeOf(e) <= until), 'change_events', query);
    }
    const dep = /^\/service_dependencies\/technical_services\/([^/]+)$/.exec(path);
    if (dep) {
      const id = decodeURIComponent(dep[1]!);
      const incidentServiceId = (opts.incident.service as { id?: unknown } | null | undefined)?.id;
      const known = id === incidentServiceId || dependencies.some((d) => d.supporting === id || d.dependent === id);
      if (!known) return { status: 404, body: pdError('Not Found', 2100) };
      const ref = (sid: string) => ({ id: sid, type: 'technical_service_reference' });
      const relationships = dependencies
        .filter((d) => d.supporting === id || d.dependent === id)
        .map((d, i) => ({ id: `D${i}${d.supporting}${d.dependent}`, type: 'service_dependency', supporting_service: ref(d.supporting), dependent_service: ref(d.dependent) }));
      return { status: 200, body: { relationships } };
    }
    const m = /^\/incidents\/([^/]+)(?:\/(log_entries|alerts|related_change_events))?$/.exec(path);
    if (m) {
      if (opts.forbidIncidents) return forbidden;
      if (decodeURIComponent(m[1]!) !== incidentId) return { status: 404, body: pdError('Not Found', 2100) };
      if (m[2] === 'log_entries') return page(shapeLogEntries(query), 'log_entries', query);
      if (m[2] === 'alerts') return page(alerts, 'alerts', query);
      if (m[2] === 'related_change_events') {
        const related = opts.relatedChangeEvents ?? [];
        const limit = query.limit === undefined ? 25 : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1) return { status: 400, body: pdError('Invalid Input Provided', 2001, ['limit must be a positive integer']) };
        const served = Math.min(limit, 100);
        return { status: 200, body: { change_events: related.slice(0, served), limit: null, offset: null, total: null, more: related.length > served } };
      }
      return { status: 200, body: { incident: opts.incident } };
    }
    return { status: 404, body: pdError('Not Found', 2100) };
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
    if (faults.down || faults.downPaths?.includes(rec.path)) return send(res, rec, 500, pdError('Internal Server Error'));
    if (failuresLeft > 0) {
      failuresLeft--;
      return send(res, rec, 503, pdError('Service Unavailable'));
    }
    if (faults.rateLimitOnce && !rateLimited.has(rec.path)) {
      rateLimited.add(rec.path);
      const wait = String(faults.retryAfterSeconds ?? 1);
      return send(res, rec, 429, pdError('Rate Limit Exceeded', 2020), { 'Retry-After': wait, 'ratelimit-limit': '960', 'ratelimit-remaining': '0', 'ratelimit-reset': wait });
    }
    if (req.headers.authorization !== `Token token=${opts.token}`) return send(res, rec, 401, pdError('Unauthorized', 2006));
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

  return {
    url: `http://127.0.0.1:${port}`,
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
