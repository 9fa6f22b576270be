// A loopback Slack Web API (node:http on 127.0.0.1, port 0) for the harvester tests, driven by a
// bundle's sources.slack section. It speaks what @slack/web-api sends (POST, form-encoded or
// JSON, `Authorization: Bearer`) and answers like Slack: HTTP 200 with `{ ok: true, ...,
// response_metadata: { next_cursor } }` or `{ ok: false, error }`, HTTP 429 with Retry-After.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMessage = Record<string, unknown> & { ts: string };
export type FakeChannel = Record<string, unknown> & { id: string; name: string };

export interface SlackFakeFaults {
  /** the first call of this method answers 429 with Retry-After */
  rateLimitOnce?: string;
  /** Retry-After for rateLimitOnce, seconds (default 1) */
  retryAfterSeconds?: number;
  /** the next N requests (any method) answer HTTP 503 */
  failWith5xx?: number;
  /** every request answers HTTP 503 */
  down?: boolean;
  /** every request waits this long before answering */
  hangMs?: number;
}

export interface SlackFakeOptions {
  token: string;
  channel: FakeChannel;
  messages: FakeMessage[];
  users: Record<string, Record<string, unknown>>;
  /** more channels for conversations.list; listed before `channel` so discovery has to page */
  extraChannels?: FakeChannel[];
  /** most items in one page (list, history, replies); the request's `limit` can lower it */
  pageSize?: number;
  /** granted scopes, sent as x-oauth-scopes and enforced per method */
  scopes?: string[];
  faults?: SlackFakeFaults;
}

export interface FakeRequest {
  method: string;
  /** Date.now() when the request arrived */
  at: number;
  status: number;
  /** the arguments, without any token */
  params: Record<string, string>;
  /** whether the Authorization header carried the right token */
  authorized: boolean;
}

export interface SlackFake {
  /** base like http://127.0.0.1:PORT/api */
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export const ALL_READ_SCOPES = ['channels:history', 'groups:history', 'channels:read', 'groups:read', 'users:read'];

function micros(ts: string | undefined, fallback: number): number {
  if (ts === undefined || ts === '') return fallback;
  const m = /^(\d+)(?:\.(\d{1,6}))?\d*$/.exec(ts.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

const truthy = (v: string | undefined) => v === 'true' || v === '1';
const encodeCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');
function decodeCursor(cursor: string | undefined): number | null {
  if (!cursor) return 0;
  const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return m ? Number(m[1]) : null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseParams(req: IncomingMessage, body: string, url: URL): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/json') && body.trim()) {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed)) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
  } else if (body) {
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  }
  return params;
}

export async function createSlackFake(opts: SlackFakeOptions): Promise<SlackFake> {
  const requests: FakeRequest[] = [];
  const pageSize = opts.pageSize ?? 1000;
  const scopes = opts.scopes ?? ALL_READ_SCOPES;
  const faults = opts.faults ?? {};
  let failures5xx = faults.failWith5xx ?? 0;
  let rateLimited = false;
  const timers = new Map<NodeJS.Timeout, () => void>();

  const fullChannel = (c: FakeChannel): Record<string, unknown> => ({
    is_channel: true,
    is_group: false,
    is_im: false,
    is_private: false,
    is_archived: false,
    is_member: true,
    created: 1_700_000_000,
    creator: 'U0CREATOR',
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    num_members: 12,
    ...c,
  });
  const channels = [...(opts.extraChannels ?? []), opts.channel].map(fullChannel);
  const findChannel = (id: string | undefined) => channels.find((c) => c.id === id);
  const messagesOf = (id: string) => (id === opts.channel.id ? opts.messages : []);

  const isTopLevel = (m: FakeMessage) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast';

  function inRange(params: Record<string, string>) {
    const oldest = micros(params.oldest, 0);
    const latest = micros(params.latest, Date.now() * 1000);
    const inclusive = truthy(params.inclusive);
    return (m: FakeMessage) => {
      const t = micros(m.ts, Number.NaN);
      return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
    };
  }

  function page<T>(items: T[], params: Record<string, string>): { items: T[]; next: string } | null {
    const offset = decodeCursor(params.cursor);
    if (offset === null) return null;
    const limit = Math.max(1, Math.min(Number(params.limit) || 100, pageSize));
    const slice = items.slice(offset, offset + limit);
    const next = offset + limit < items.length ? encodeCursor(offset + limit) : '';
    return { items: slice, next };
  }

  const missingScope = (needed: string) => ({ ok: false, error: 'missing_scope', needed, provided: scopes.join(',') });

  function handle(method: string, params: Record<string, string>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fernhill.slack.com/', team: 'Fernhill', user: 'hindsight', team_id: 'T0FAKE0001', user_id: 'U0HINDSIGHT', bot_id: 'B0HINDSIGHT', is_enterprise_install: false };

      case 'conversations.list': {
        const types = (params.types ?? 'public_channel').split(',').map((t) => t.trim());
        if (types.includes('public_channel') && !scopes.includes('channels:read')) return missingScope('channels:read');
        if (types.includes('private_channel') && !scopes.includes('groups:read')) return missingScope('groups:read');
        const listed = channels.filter(
          (c) => ((c.is_private ? types.includes('private_channel') : types.includes('public_channel')) && !(truthy(params.exclude_archived) && c.is_archived)),
        );
        const p = page(listed, params);
        if (!p) return { ok: false, error: 'invalid_cursor' };
        return { ok: true, channels: p.items, response_metadata: { next_cursor: p.next } };
      }

      case 'conversations.info': {
        const c = findChannel(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        if (!scopes.includes(c.is_private ? 'groups:read' : 'channels:read')) return missingScope(c.is_private ? 'groups:read' : 'channels:read');
        return { ok: true, channel: c };
      }

      case 'conversations.history': {
        const c = findChannel(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        if (!scopes.includes(c.is_private ? 'groups:history' : 'channels:history')) return missingScope(c.is_private ? 'groups:history' : 'channels:history');
        const inWindow = inRange(params);
        const top = messagesOf(c.id as string)
          .filter((m) => isTopLevel(m) && inWindow(m))
          .sort((a, b) => micros(b.ts, 0) - micros(a.ts, 0)); // newest first, like Slack
        const p = page(top, params);
        if (!p) return { ok: false, error: 'invalid_cursor' };
        return { ok: true, messages: p.items, has_more: p.next !== '', pin_count: 0, channel_actions_ts: null, channel_actions_count: 0, response_metadata: { next_cursor: p.next } };
      }

      case 'conversations.replies': {
        const c = findChannel(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        if (!scopes.includes(c.is_private ? 'groups:history' : 'channels:history')) return missingScope(c.is_private ? 'groups:history' : 'channels:history');
        const all = messagesOf(c.id as string);
        const parent = all.find((m) => m.ts === params.ts);
        if (!parent) return { ok: false, error: 'thread_not_found' };
        const inWindow = inRange(params);
        const replies = all
          .filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts && inWindow(m))
          .sort((a, b) => micros(a.ts, 0) - micros(b.ts, 0));
        // like Slack, every page starts with the parent
        const p = page(replies, { ...params, limit: String(Math.max(1, (Number(params.limit) || 1000) - 1)) });
        if (!p) return { ok: false, error: 'invalid_cursor' };
        return { ok: true, messages: [parent, ...p.items], has_more: p.next !== '', response_metadata: { next_cursor: p.next } };
      }

      case 'users.info': {
        if (!scopes.includes('users:read')) return missingScope('users:read');
        const id = params.user ?? '';
        const u = opts.users[id];
        if (!u) return { ok: false, error: 'user_not_found' };
        const name = String(u.name ?? id);
        return {
          ok: true,
          user: {
            id,
            team_id: 'T0FAKE0001',
            deleted: false,
            color: '9f69e7',
            tz_label: 'Pacific Standard Time',
            tz_offset: -28800,
            is_admin: false,
            is_owner: false,
            is_app_user: false,
            updated: 1_700_000_000,
            ...u,
            profile: {
              real_name: u.real_name,
              display_name: name,
              email: `${name}@example.invalid`,
              phone: '+1 555 0100',
              image_48: `https://avatars.example.invalid/${id}.png`,
            },
          },
        };
      }

      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(req);
      const match = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json; charset=utf-8', ...headers });
        res.end(text);
      };
      let params: Record<string, string> = {};
      try {
        params = parseParams(req, body, url);
      } catch {
        send(200, { ok: false, error: 'invalid_json' });
        return;
      }
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const given = bearer ?? params.token;
      const { token: _omit, ...safeParams } = params;
      const record: FakeRequest = { method: match?.[1] ?? url.pathname, at: Date.now(), status: 0, params: safeParams, authorized: given === opts.token };
      requests.push(record);

      if (faults.hangMs) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, faults.hangMs);
          timers.set(t, resolve);
        });
        if (res.destroyed || req.socket.destroyed) return;
      }
      const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        send(status, payload, headers);
      };

      if (!match || (req.method !== 'POST' && req.method !== 'GET')) return reply(404, 'not found');
      if (faults.down) return reply(503, 'upstream connect error or disconnect/reset before headers');
      if (failures5xx > 0) {
        failures5xx--;
        return reply(503, 'service unavailable');
      }
      const method = match[1]!;
      if (faults.rateLimitOnce === method && !rateLimited) {
        rateLimited = true;
        return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(faults.retryAfterSeconds ?? 1) });
      }
      if (!given) return reply(200, { ok: false, error: 'not_authed' });
      if (given !== opts.token) return reply(200, { ok: false, error: 'invalid_auth' });
      return reply(200, handle(method, params), { 'x-oauth-scopes': scopes.join(',') });
    })().catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500);
        res.end();
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const [t, release] of timers) {
          clearTimeout(t);
          release();
        }
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
