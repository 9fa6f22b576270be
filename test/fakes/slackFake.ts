// A loopback Slack Web API (node:http on 127.0.0.1, port 0) for the harvester tests, driven by a
// bundle's sources.slack section. It speaks what @slack/web-api sends (POST, form-encoded or
// JSON, `Authorization: Bearer`) and answers like Slack: HTTP 200 with `{ ok: true, ...,
// response_metadata: { next_cursor } }` or `{ ok: false, error }`, HTTP 429 with Retry-After.
//
// For the review loop it also writes: chat.postMessage / chat.update (blocks and metadata kept,
// Block Kit limits checked), reactions.get / reactions.add, usergroups.users.list, and the
// files.uploadV2 flow of @slack/web-api (files.getUploadURLExternal -> POST to the returned
// upload URL on this same server -> files.completeUploadExternal, which shares the file as a
// message in the channel / thread). Every channel has its own message list; the harvest
// channel's list is `opts.messages` itself. Metadata is returned only with include_all_metadata.
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
  /**
   * these methods answer HTTP 503 (`upload` names the file upload URL). Read on every request:
   * change `fake.faults.downFor` to take methods down and bring them back.
   */
  downFor?: string[];
  /** the upload URL answers HTTP 503 for files of these names (read on every request) */
  uploadDownFor?: string[];
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
  /**
   * conversations.history answers with at most this many messages per page, whatever `limit`
   * asks for, still with a next_cursor while there are more (Slack may return fewer than asked)
   */
  historyPageMax?: number;
  /** granted scopes, sent as x-oauth-scopes and enforced per method */
  scopes?: string[];
  faults?: SlackFakeFaults;
  /** user group id -> member user ids, for usergroups.users.list */
  usergroups?: Record<string, string[]>;
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

export interface FakeFile {
  id: string;
  filename: string;
  length: number;
  title?: string;
  /** what was POSTed to the upload URL (null until then), as UTF-8 text */
  content: string | null;
  /** the same bytes as uploaded (binary files such as a PNG) */
  bytes: Buffer | null;
  completed: boolean;
}

export interface SlackFake {
  /** base like http://127.0.0.1:PORT/api */
  url: string;
  requests: FakeRequest[];
  /** the live fault settings (`downFor` may be changed between calls) */
  faults: SlackFakeFaults;
  /** uploaded files by id */
  files: Map<string, FakeFile>;
  /** the app's own identity (auth.test), author of everything it posts */
  bot: { userId: string; botId: string };
  /** a human reply in a thread; returns its ts */
  addReply(channel: string, threadTs: string, msg: { user: string; text: string }): string;
  /** a human top-level message in a channel; returns its ts */
  addMessage(channel: string, msg: { user: string; text: string }): string;
  /** a human reaction on a message (top-level or reply) */
  addReaction(channel: string, ts: string, name: string, user: string): void;
  /** every message of the channel (top-level and replies), oldest first; the stored objects */
  messagesIn(channel: string): FakeMessage[];
  close(): Promise<void>;
}

export const ALL_READ_SCOPES = ['channels:history', 'groups:history', 'channels:read', 'groups:read', 'users:read'];
/** what the review loop uses on top of the read scopes */
export const ALL_REVIEW_SCOPES = [...ALL_READ_SCOPES, 'chat:write', 'files:write', 'reactions:read', 'reactions:write', 'usergroups:read'];

const BOT = { userId: 'U0HINDSIGHT', botId: 'B0HINDSIGHT', appId: 'A0HINDSIGHT' };

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

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The file bytes of an upload: the first file part of a multipart body, else the raw body. */
async function uploadedContent(req: IncomingMessage, raw: Buffer): Promise<Buffer> {
  const type = req.headers['content-type'] ?? '';
  if (type.toLowerCase().startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
    for (const [, value] of form) if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
    for (const [, value] of form) return Buffer.from(String(value));
    return Buffer.alloc(0);
  }
  return raw;
}

/** Slack's mimetype for a shared file, from its name. */
function mimetypeOf(filename: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  return ({ png: 'image/png', html: 'text/html', md: 'text/markdown', json: 'application/json' } as Record<string, string>)[ext ?? ''] ?? 'text/plain';
}

function parseJson<T>(value: string | undefined): T | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return 'invalid';
  }
}

type Block = { type?: string; text?: { text?: string }; elements?: Array<{ text?: string }> };

/** Block Kit limits Slack enforces on messages: 50 blocks, section 3000, header 150 characters. */
function invalidBlocks(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return 'no more than 50 items allowed [json-pointer:/blocks]';
  for (const [i, b] of (blocks as Block[]).entries()) {
    if (!b || typeof b.type !== 'string') return `missing type [json-pointer:/blocks/${i}]`;
    if (b.type === 'section' && (b.text?.text ?? '').length > 3000) return `must be less than 3001 characters [json-pointer:/blocks/${i}/text]`;
    if (b.type === 'header' && (b.text?.text ?? '').length > 150) return `must be less than 151 characters [json-pointer:/blocks/${i}/text]`;
    if (b.type === 'context' && (!Array.isArray(b.elements) || b.elements.length > 10)) return `context elements [json-pointer:/blocks/${i}/elements]`;
  }
  return null;
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
  const faults: SlackFakeFaults = opts.faults ?? {};
  const files = new Map<string, FakeFile>();
  let fileSeq = 0;
  let msgSeq = 0;
  let lastTsMicros = 0;
  let baseUrl = '';
  /** unique, increasing and never in the future of the next Date.now() millisecond */
  const nextTs = () => {
    lastTsMicros = Math.max(Date.now() * 1000, lastTsMicros + 1);
    return `${Math.floor(lastTsMicros / 1_000_000)}.${String(lastTsMicros % 1_000_000).padStart(6, '0')}`;
  };
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
  const store = new Map<string, FakeMessage[]>();
  const messagesOf = (id: string): FakeMessage[] => {
    if (id === opts.channel.id) return opts.messages;
    let list = store.get(id);
    if (!list) store.set(id, (list = []));
    return list;
  };
  /** metadata goes out only when asked for, like Slack */
  const out = (m: FakeMessage, params: Record<string, string>): FakeMessage => {
    if (m.metadata === undefined || truthy(params.include_all_metadata)) return m;
    const { metadata: _m, ...rest } = m;
    return rest as FakeMessage;
  };
  const findMessage = (channel: string, ts: string | undefined) => messagesOf(channel).find((m) => m.ts === ts);
  /** a message in a channel (thread reply when threadTs), with the parent's reply fields kept up to date */
  const append = (channel: string, msg: Record<string, unknown>, threadTs?: string): FakeMessage => {
    const list = messagesOf(channel);
    const ts = nextTs();
    const m: FakeMessage = { type: 'message', ...msg, ts };
    if (threadTs) {
      m.thread_ts = threadTs;
      const parent = list.find((p) => p.ts === threadTs);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = Number(parent.reply_count ?? 0) + 1;
        parent.latest_reply = ts;
        const users = new Set((parent.reply_users as string[] | undefined) ?? []);
        if (typeof m.user === 'string') users.add(m.user);
        parent.reply_users = [...users];
        parent.reply_users_count = users.size;
      }
    }
    list.push(m);
    return m;
  };
  const addReaction = (m: FakeMessage, name: string, user: string): boolean => {
    const reactions = ((m.reactions as Array<{ name: string; users: string[]; count: number }> | undefined) ?? []);
    let r = reactions.find((x) => x.name === name);
    if (!r) reactions.push((r = { name, users: [], count: 0 }));
    if (r.users.includes(user)) return false;
    r.users.push(user);
    r.count = r.users.length;
    m.reactions = reactions;
    return true;
  };
  /** channel by id, or by name (#name) as chat.postMessage accepts */
  const channelFor = (ref: string | undefined) => findChannel(ref) ?? channels.find((c) => `#${String(c.name)}` === ref || c.name === ref);
  const botMessage = (fields: Record<string, unknown>) => ({ user: BOT.userId, bot_id: BOT.botId, app_id: BOT.appId, team: 'T0FAKE0001', ...fields });

  const isTopLevel = (m: FakeMessage) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast';

  function inRange(params: Record<string, string>) {
    const oldest = micros(params.oldest, 0);
    const latest = micros(params.latest, Number.POSITIVE_INFINITY);
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
        return { ok: true, url: 'https://fernhill.slack.com/', team: 'Fernhill', user: 'hindsight', team_id: 'T0FAKE0001', user_id: BOT.userId, bot_id: BOT.botId, is_enterprise_install: false };

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
        const p = page(top, opts.historyPageMax ? { ...params, limit: String(Math.min(Number(params.limit) || 100, opts.historyPageMax)) } : params);
        if (!p) return { ok: false, error: 'invalid_cursor' };
        return { ok: true, messages: p.items.map((m) => out(m, params)), has_more: p.next !== '', pin_count: 0, channel_actions_ts: null, channel_actions_count: 0, response_metadata: { next_cursor: p.next } };
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
        return { ok: true, messages: [parent, ...p.items].map((m) => out(m, params)), has_more: p.next !== '', response_metadata: { next_cursor: p.next } };
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

      case 'chat.postMessage': {
        if (!scopes.includes('chat:write')) return missingScope('chat:write');
        const c = channelFor(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        const blocks = parseJson<unknown[]>(params.blocks);
        const metadata = parseJson<Record<string, unknown>>(params.metadata);
        if (blocks === 'invalid') return { ok: false, error: 'invalid_blocks_format' };
        if (metadata === 'invalid') return { ok: false, error: 'invalid_metadata_format' };
        if (blocks !== undefined) {
          const why = invalidBlocks(blocks);
          if (why) return { ok: false, error: 'invalid_blocks', errors: [why] };
        }
        if (!params.text && (blocks === undefined || (Array.isArray(blocks) && blocks.length === 0))) return { ok: false, error: 'no_text' };
        if ((params.text ?? '').length > 40_000) return { ok: false, error: 'msg_too_long' };
        if (metadata !== undefined && (typeof metadata.event_type !== 'string' || typeof metadata.event_payload !== 'object')) return { ok: false, error: 'invalid_metadata_schema' };
        const threadTs = params.thread_ts || undefined;
        if (threadTs && !findMessage(c.id as string, threadTs)) return { ok: false, error: 'thread_not_found' };
        const fields: Record<string, unknown> = { text: params.text ?? '' };
        if (blocks !== undefined) fields.blocks = blocks;
        if (metadata !== undefined) fields.metadata = metadata;
        const m = append(c.id as string, botMessage(fields), threadTs);
        return { ok: true, channel: c.id, ts: m.ts, message: m };
      }

      case 'chat.update': {
        if (!scopes.includes('chat:write')) return missingScope('chat:write');
        const c = findChannel(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        const m = findMessage(c.id as string, params.ts);
        if (!m) return { ok: false, error: 'message_not_found' };
        if (m.bot_id !== BOT.botId) return { ok: false, error: 'cant_update_message' };
        const blocks = parseJson<unknown[]>(params.blocks);
        const metadata = parseJson<Record<string, unknown>>(params.metadata);
        if (blocks === 'invalid') return { ok: false, error: 'invalid_blocks_format' };
        if (metadata === 'invalid') return { ok: false, error: 'invalid_metadata_format' };
        if (blocks !== undefined) {
          const why = invalidBlocks(blocks);
          if (why) return { ok: false, error: 'invalid_blocks', errors: [why] };
        }
        if (params.text !== undefined) m.text = params.text;
        if (blocks !== undefined) m.blocks = blocks;
        if (metadata !== undefined) m.metadata = metadata;
        m.edited = { user: BOT.userId, ts: nextTs() };
        return { ok: true, channel: c.id, ts: m.ts, text: m.text, message: m };
      }

      case 'reactions.get': {
        if (!scopes.includes('reactions:read')) return missingScope('reactions:read');
        const c = findChannel(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        const m = findMessage(c.id as string, params.timestamp);
        if (!m) return { ok: false, error: 'message_not_found' };
        return { ok: true, type: 'message', channel: c.id, message: out(m, {}) };
      }

      case 'reactions.add': {
        if (!scopes.includes('reactions:write')) return missingScope('reactions:write');
        const c = findChannel(params.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        const m = findMessage(c.id as string, params.timestamp);
        if (!m) return { ok: false, error: 'message_not_found' };
        if (!params.name) return { ok: false, error: 'invalid_name' };
        return addReaction(m, params.name, BOT.userId) ? { ok: true } : { ok: false, error: 'already_reacted' };
      }

      case 'usergroups.users.list': {
        if (!scopes.includes('usergroups:read')) return missingScope('usergroups:read');
        const users = opts.usergroups?.[params.usergroup ?? ''];
        if (!users) return { ok: false, error: 'no_such_subteam' };
        return { ok: true, users: [...users] };
      }

      case 'files.getUploadURLExternal': {
        if (!scopes.includes('files:write')) return missingScope('files:write');
        const length = Number(params.length);
        if (!params.filename) return { ok: false, error: 'invalid_arguments' };
        if (!Number.isInteger(length) || length < 1) return { ok: false, error: 'invalid_length' };
        const id = `F0FAKE${String(++fileSeq).padStart(5, '0')}`;
        files.set(id, { id, filename: params.filename, length, content: null, bytes: null, completed: false });
        return { ok: true, upload_url: `${baseUrl}/upload/v1/${id}`, file_id: id };
      }

      case 'files.completeUploadExternal': {
        if (!scopes.includes('files:write')) return missingScope('files:write');
        const list = parseJson<Array<{ id: string; title?: string }>>(params.files);
        if (!Array.isArray(list) || list.length === 0) return { ok: false, error: 'invalid_arguments' };
        const done: FakeFile[] = [];
        for (const f of list) {
          const file = files.get(f.id);
          if (!file || file.content === null) return { ok: false, error: 'file_not_found' };
          if (file.completed) return { ok: false, error: 'file_already_completed' };
          done.push(file);
        }
        const c = params.channel_id ? findChannel(params.channel_id) : undefined;
        if (params.channel_id && !c) return { ok: false, error: 'channel_not_found' };
        const threadTs = params.thread_ts || undefined;
        if (c && threadTs && !findMessage(c.id as string, threadTs)) return { ok: false, error: 'thread_not_found' };
        for (const [i, file] of done.entries()) {
          file.completed = true;
          file.title = list[i]!.title ?? file.filename;
        }
        const shared = done.map((f) => ({ id: f.id, name: f.filename, title: f.title, size: f.length, mimetype: mimetypeOf(f.filename), user: BOT.userId }));
        if (c) append(c.id as string, botMessage({ text: params.initial_comment ?? '', files: shared, upload: true }), threadTs);
        return { ok: true, files: shared.map((f) => ({ ...f, channels: c ? [c.id] : [] })) };
      }

      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const raw = await readBody(req);
      const body = raw.toString('utf8');
      const match = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      const upload = /^\/upload\/v1\/([A-Za-z0-9]+)$/.exec(url.pathname);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json; charset=utf-8', ...headers });
        res.end(text);
      };
      if (upload) {
        // the upload URL handed out by files.getUploadURLExternal (bytes, not a Web API method)
        const record: FakeRequest = { method: 'upload', at: Date.now(), status: 0, params: { file: upload[1]! }, authorized: true };
        requests.push(record);
        const reply = (status: number, text: string) => {
          record.status = status;
          send(status, text);
        };
        const file = files.get(upload[1]!);
        if (faults.down || faults.downFor?.includes('upload') || (file && faults.uploadDownFor?.includes(file.filename))) return reply(503, 'service unavailable');
        if (!file || req.method !== 'POST') return reply(404, 'not found');
        file.bytes = await uploadedContent(req, raw);
        file.content = file.bytes.toString('utf8');
        return reply(200, `OK - ${file.bytes.length}`);
      }
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
      if (faults.downFor?.includes(method)) return reply(503, 'service unavailable');
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
  baseUrl = `http://127.0.0.1:${port}`;
  const knownChannel = (channel: string) => {
    const c = findChannel(channel);
    if (!c) throw new Error(`slack fake: no channel ${channel}`);
    return c.id as string;
  };
  return {
    url: `http://127.0.0.1:${port}/api`,
    requests,
    faults,
    files,
    bot: { userId: BOT.userId, botId: BOT.botId },
    addReply(channel, threadTs, msg) {
      const id = knownChannel(channel);
      if (!findMessage(id, threadTs)) throw new Error(`slack fake: no message ${threadTs} in ${channel}`);
      return append(id, { user: msg.user, text: msg.text, client_msg_id: `fake-${++msgSeq}` }, threadTs).ts;
    },
    addMessage(channel, msg) {
      return append(knownChannel(channel), { user: msg.user, text: msg.text, client_msg_id: `fake-${++msgSeq}` }).ts;
    },
    addReaction(channel, ts, name, user) {
      const m = findMessage(knownChannel(channel), ts);
      if (!m) throw new Error(`slack fake: no message ${ts} in ${channel}`);
      addReaction(m, name, user);
    },
    messagesIn(channel) {
      return [...messagesOf(knownChannel(channel))].sort((a, b) => micros(a.ts, 0) - micros(b.ts, 0));
    },
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
