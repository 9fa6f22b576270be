// A real HTTP server on 127.0.0.1 that answers like Datadog's REST API, for the harvest tests:
// GET /api/v1/validate, /api/v1/query, /api/v1/events, /api/v1/metrics, /api/v1/graph/snapshot
// and POST /api/v2/logs/events/search (cursor pages). Data-driven from a context bundle's
// sources.datadog / sources.logs. Faults: 429 (Retry-After and/or X-RateLimit-Reset), 5xx,
// down (connections dropped), hang (no answer).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLogLine {
  timestamp: string;
  service?: string | null;
  status?: string | null;
  host?: string | null;
  message: string;
}

interface Counted {
  /** how many more requests get the fault */
  times: number;
  /** only requests whose path starts with this */
  path?: string;
}

export interface DatadogFakeFaults {
  rateLimit?: Counted & { retryAfterSec?: number | null; resetSec?: number | null };
  serverError?: Counted & { status?: number };
  /** every connection is dropped without an answer */
  down?: boolean;
  /** matching requests never get an answer */
  hang?: Partial<Counted>;
}

export interface DatadogFakeOptions {
  apiKey: string;
  appKey: string;
  /** query series as /api/v1/query returns them; a query gets the series whose `expression` equals it */
  metrics?: unknown[];
  /** events as /api/v1/events returns them (date_happened in epoch seconds) */
  events?: unknown[];
  /** log lines in the bundle's shape; served as v2 log objects */
  logs?: FakeLogLine[];
  /** log lines per page at most (the request's page.limit may make it smaller) */
  pageSize?: number;
  /** the application key's permissions; default: all */
  scopes?: string[];
  faults?: DatadogFakeFaults;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** ms since epoch when the request arrived */
  at: number;
  status: number | null;
  apiKeyOk: boolean;
  appKeyOk: boolean;
}

export interface DatadogFake {
  url: string;
  requests: RecordedRequest[];
  faults: DatadogFakeFaults;
  close(): Promise<void>;
}

const ALL_SCOPES = ['metrics_read', 'events_read', 'logs_read_data', 'timeseries_query'];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function takeFault<T extends Partial<Counted>>(fault: T | undefined, path: string): T | null {
  if (!fault) return null;
  if (fault.path && !path.startsWith(fault.path)) return null;
  if (fault.times === undefined) return fault;
  if (fault.times <= 0) return null;
  fault.times--;
  return fault;
}

const cursorFor = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
function offsetOf(cursor: string): number | null {
  try {
    const o = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown }).o;
    return typeof o === 'number' && Number.isInteger(o) && o >= 0 ? o : null;
  } catch {
    return null;
  }
}

function logId(line: FakeLogLine, i: number): string {
  return `AQAAAZ${createHash('sha1').update(`${i}:${line.timestamp}:${line.message}`).digest('base64url').slice(0, 24)}`;
}

export async function createDatadogFake(opts: DatadogFakeOptions): Promise<DatadogFake> {
  const metrics = (opts.metrics ?? []) as Array<{ expression?: string }>;
  const events = [...((opts.events ?? []) as Array<{ date_happened: number; tags?: string[]; source_type_name?: string }>)].sort(
    (a, b) => b.date_happened - a.date_happened,
  );
  const logs = (opts.logs ?? []).map((line, i) => ({ line, i, ms: Date.parse(line.timestamp) }));
  const pageSize = opts.pageSize ?? 1000;
  const scopes = new Set(opts.scopes ?? ALL_SCOPES);
  const requests: RecordedRequest[] = [];
  const fake: DatadogFake = { url: '', requests, faults: opts.faults ?? {}, close: async () => {} };

  const send = (res: ServerResponse, rec: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const text = await readBody(req);
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      body,
      at: Date.now(),
      status: null,
      apiKeyOk: req.headers['dd-api-key'] === opts.apiKey,
      appKeyOk: req.headers['dd-application-key'] === opts.appKey,
    };
    requests.push(rec);
    const f = fake.faults;

    if (f.down) {
      req.socket.destroy();
      return;
    }
    if (takeFault(f.hang, u.pathname)) return; // never answered; close() drops it
    const limited = takeFault(f.rateLimit, u.pathname);
    if (limited) {
      const headers: Record<string, string> = { 'X-RateLimit-Limit': '100', 'X-RateLimit-Period': '10', 'X-RateLimit-Remaining': '0' };
      const retryAfter = limited.retryAfterSec === undefined ? 1 : limited.retryAfterSec;
      if (retryAfter !== null) headers['Retry-After'] = String(retryAfter);
      if (limited.resetSec !== undefined && limited.resetSec !== null) headers['X-RateLimit-Reset'] = String(limited.resetSec);
      return send(res, rec, 429, { errors: ['Too many requests'] }, headers);
    }
    const failing = takeFault(f.serverError, u.pathname);
    if (failing) return send(res, rec, failing.status ?? 503, { errors: ['Service Unavailable'] });

    const forbidden = () => send(res, rec, 403, { errors: ['Forbidden'] });
    const bad = (msg: string) => send(res, rec, 400, { errors: [msg] });
    const get = req.method === 'GET';
    const q = u.searchParams;

    if (get && u.pathname === '/api/v1/validate') {
      return rec.apiKeyOk ? send(res, rec, 200, { valid: true }) : forbidden();
    }
    if (!rec.apiKeyOk || !rec.appKeyOk) return forbidden();

    if (get && u.pathname === '/api/v1/query') {
      if (!scopes.has('metrics_read') && !scopes.has('timeseries_query')) return forbidden();
      const from = Number(q.get('from'));
      const to = Number(q.get('to'));
      const query = q.get('query');
      if (!q.get('from') || !q.get('to') || !Number.isFinite(from) || !Number.isFinite(to)) return bad('from and to are required (epoch seconds)');
      if (!query) return bad('query is required');
      if (from > 1e11 || to > 1e11) return bad('from and to are epoch seconds');
      const series = metrics.filter((s) => s.expression === query);
      return send(res, rec, 200, { status: 'ok', res_type: 'time_series', series, from_date: from * 1000, to_date: to * 1000, query, message: '', group_by: [] });
    }
    if (get && u.pathname === '/api/v1/metrics') {
      if (!scopes.has('metrics_read')) return forbidden();
      if (!q.get('from')) return bad('from is required');
      return send(res, rec, 200, { from: q.get('from'), metrics: [...new Set(metrics.map((s) => (s as { metric?: string }).metric ?? ''))].filter(Boolean) });
    }
    if (get && u.pathname === '/api/v1/events') {
      if (!scopes.has('events_read')) return forbidden();
      const start = Number(q.get('start'));
      const end = Number(q.get('end'));
      if (!q.get('start') || !q.get('end') || !Number.isFinite(start) || !Number.isFinite(end)) return bad('start and end are required (epoch seconds)');
      const tags = (q.get('tags') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      const sources = (q.get('sources') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      const page = Number(q.get('page') ?? 0);
      const matching = events.filter(
        (e) =>
          e.date_happened >= start &&
          e.date_happened <= end &&
          tags.every((t) => (e.tags ?? []).includes(t)) &&
          (sources.length === 0 || sources.includes((e.source_type_name ?? '').toLowerCase())),
      );
      return send(res, rec, 200, { events: matching.slice(page * 1000, (page + 1) * 1000), status: 'ok' });
    }
    if (get && u.pathname === '/api/v1/graph/snapshot') {
      const metricQuery = q.get('metric_query');
      if (!q.get('start') || !q.get('end')) return bad('start and end are required');
      if (!metricQuery && !q.get('graph_def')) return bad('metric_query or graph_def is required');
      const graphDef = q.get('graph_def') ?? JSON.stringify({ requests: [{ q: metricQuery, type: 'line' }], viz: 'timeseries' });
      const hash = createHash('md5').update(`${metricQuery}:${q.get('start')}:${q.get('end')}`).digest('hex');
      return send(res, rec, 200, { graph_def: graphDef, metric_query: metricQuery, snapshot_url: `${fake.url}/snapshot/view/dd-snapshots-fake/org_1/${hash}.png` });
    }
    if (req.method === 'POST' && u.pathname === '/api/v2/logs/events/search') {
      if (!scopes.has('logs_read_data')) return forbidden();
      const b = (body ?? {}) as { filter?: { query?: string; from?: string; to?: string }; sort?: string; page?: { limit?: number; cursor?: string } };
      const limit = b.page?.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return bad('page.limit must be between 1 and 1000');
      const fromMs = b.filter?.from ? Date.parse(b.filter.from) : -Infinity;
      const toMs = b.filter?.to ? Date.parse(b.filter.to) : Infinity;
      if (Number.isNaN(fromMs) || Number.isNaN(toMs)) return bad('filter.from and filter.to must be ISO-8601 times');
      let offset = 0;
      if (b.page?.cursor) {
        const o = offsetOf(b.page.cursor);
        if (o === null) return bad('invalid cursor');
        offset = o;
      }
      // The query text is not interpreted: every line in the time range matches.
      const inRange = logs.filter((l) => l.ms >= fromMs && l.ms <= toMs).sort((x, y) => (b.sort === '-timestamp' ? y.ms - x.ms : x.ms - y.ms) || x.i - y.i);
      const size = Math.min(limit, pageSize);
      const page = inRange.slice(offset, offset + size);
      const next = offset + size < inRange.length ? cursorFor(offset + size) : null;
      return send(res, rec, 200, {
        data: page.map(({ line, i }) => ({
          id: logId(line, i),
          type: 'log',
          attributes: {
            timestamp: line.timestamp,
            service: line.service ?? undefined,
            status: line.status ?? undefined,
            host: line.host ?? undefined,
            message: line.message,
            tags: line.service ? [`service:${line.service}`] : [],
            attributes: {},
          },
        })),
        meta: { page: next ? { after: next } : {}, status: 'done', elapsed: 3, request_id: 'fake' },
        links: next ? { next: `${fake.url}/api/v2/logs/events?page[cursor]=${next}` } : {},
      });
    }
    return send(res, rec, 404, { errors: ['Not found'] });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [String(err)] }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
