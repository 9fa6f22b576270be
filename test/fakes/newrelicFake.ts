// A real HTTP server on 127.0.0.1 that answers like New Relic's NerdGraph (POST /graphql):
// `{ actor { user { name } } }` and `actor.account(id).nrql(query).results` for known NRQL
// queries, matched on the text before SINCE. Unknown queries get GraphQL `errors[]` in a 200
// answer, like NerdGraph does; a wrong API-Key gets 401. Faults: 429, 5xx, down, hang, and a
// GraphQL query timeout.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Counted {
  /** how many more requests get the fault */
  times: number;
}

export interface NewRelicFakeFaults {
  rateLimit?: Counted & { retryAfterSec?: number };
  serverError?: Counted & { status?: number };
  /** a 200 answer with a GraphQL error saying the NRQL query timed out */
  queryTimeout?: Counted;
  down?: boolean;
  hang?: Partial<Counted>;
}

export interface NewRelicFakeOptions {
  apiKey: string;
  /** the account the key may read; any when absent */
  accountId?: number;
  /** NRQL text before SINCE (trimmed) -> results */
  queries: Record<string, unknown[]>;
  userName?: string;
  faults?: NewRelicFakeFaults;
}

export interface RecordedGraphQL {
  at: number;
  status: number | null;
  keyOk: boolean;
  query: string;
  variables: Record<string, unknown>;
}

export interface NewRelicFake {
  /** the GraphQL endpoint (…/graphql) */
  url: string;
  requests: RecordedGraphQL[];
  faults: NewRelicFakeFaults;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function take<T extends Partial<Counted>>(fault: T | undefined): T | null {
  if (!fault) return null;
  if (fault.times === undefined) return fault;
  if (fault.times <= 0) return null;
  fault.times--;
  return fault;
}

/** The NRQL text the fake matches on: everything before SINCE, trimmed. */
export const nrqlPrefix = (nrql: string) => nrql.split(/\s+SINCE\s+/i)[0]!.trim();

export async function createNewRelicFake(opts: NewRelicFakeOptions): Promise<NewRelicFake> {
  const requests: RecordedGraphQL[] = [];
  const fake: NewRelicFake = { url: '', requests, faults: opts.faults ?? {}, close: async () => {} };

  const send = (res: ServerResponse, rec: RecordedGraphQL | null, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (rec) rec.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const text = await readBody(req);
    if (req.method !== 'POST' || u.pathname !== '/graphql') return send(res, null, 404, { errors: [{ message: 'Not found' }] });
    let parsed: { query?: unknown; variables?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      return send(res, null, 400, { errors: [{ message: 'Body is not JSON' }] });
    }
    const rec: RecordedGraphQL = {
      at: Date.now(),
      status: null,
      keyOk: req.headers['api-key'] === opts.apiKey,
      query: typeof parsed.query === 'string' ? parsed.query : '',
      variables: (parsed.variables ?? {}) as Record<string, unknown>,
    };
    requests.push(rec);
    const f = fake.faults;
    if (f.down) {
      req.socket.destroy();
      return;
    }
    if (take(f.hang)) return;
    const limited = take(f.rateLimit);
    if (limited) return send(res, rec, 429, { errors: [{ message: 'Too many requests' }] }, { 'Retry-After': String(limited.retryAfterSec ?? 1) });
    const failing = take(f.serverError);
    if (failing) return send(res, rec, failing.status ?? 503, { errors: [{ message: 'Service unavailable' }] });
    if (!rec.keyOk) return send(res, rec, 401, { errors: [{ message: 'Invalid API key', extensions: { errorClass: 'UNAUTHORIZED' } }] });

    if (/\buser\s*\{/.test(rec.query) && !/\bnrql\s*\(/.test(rec.query)) {
      return send(res, rec, 200, { data: { actor: { user: { name: opts.userName ?? 'Fake User' } } } });
    }
    if (!/\bnrql\s*\(/.test(rec.query)) {
      return send(res, rec, 200, { data: null, errors: [{ message: 'Unsupported query in fake', extensions: { errorClass: 'BAD_USER_INPUT' } }] });
    }
    const accountId = rec.variables.accountId;
    const nrql = rec.variables.nrql;
    if (typeof accountId !== 'number' || typeof nrql !== 'string') {
      return send(res, rec, 200, { data: null, errors: [{ message: 'Variable "$accountId" and "$nrql" are required', extensions: { errorClass: 'BAD_USER_INPUT' } }] });
    }
    if (opts.accountId !== undefined && accountId !== opts.accountId) {
      return send(res, rec, 200, {
        data: { actor: { account: null } },
        errors: [{ message: 'Access denied to account', path: ['actor', 'account'], extensions: { errorClass: 'FORBIDDEN' } }],
      });
    }
    if (take(f.queryTimeout)) {
      return send(res, rec, 200, {
        data: { actor: { account: { nrql: null } } },
        errors: [{ message: 'NRDB query duration exceeded the timeout', path: ['actor', 'account', 'nrql'], extensions: { errorClass: 'TIMEOUT' } }],
      });
    }
    const results = opts.queries[nrqlPrefix(nrql)];
    if (!results) {
      return send(res, rec, 200, {
        data: { actor: { account: { nrql: null } } },
        errors: [{ message: `NRQL Syntax Error: Error at line 1 position 8, unknown query in fake`, path: ['actor', 'account', 'nrql'], extensions: { errorClass: 'INVALID_INPUT' } }],
      });
    }
    return send(res, rec, 200, { data: { actor: { account: { nrql: { results } } } } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, null, 500, { errors: [{ message: String(err) }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}/graphql`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
