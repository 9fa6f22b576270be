// Slack source: the incident channel's messages (history + thread replies) and the users who
// wrote or were mentioned in them, read with the official @slack/web-api client.
//
// Retries: the SDK's own retry loop is switched off (retryConfig.retries = 0,
// rejectRateLimitedCalls = true) and every call goes through our withRetries, so Slack follows
// the same policy as every other vendor: 429 waits for Retry-After (capped at 60 s instead of the
// SDK's unbounded sleep), 5xx / network errors / timeouts get jittered exponential backoff,
// at most ctx.http.retries retries, and other 4xx or Slack `ok:false` errors fail at once (the
// SDK would retry a 4xx ten times over ~30 minutes by default).
//
// Secrets: the SDK gets a logger that prints nothing; our log lines carry method names, counts
// and channel names only, never message text; anything that could echo the token is scrubbed.
import { ErrorCode, LogLevel, WebClient, type Logger } from '@slack/web-api';
import type { VendorCredentials } from '../config.js';
import type { DoctorCheck } from '../doctorTypes.js';
import { VendorError, classifyStatus, networkErrorMessage, parseRetryAfter, withRetries, type Classified } from '../retry.js';
import type { HarvestContext, HarvestErrorEntry, HarvestedIncident, HttpPolicy, SourceOutcome, TruncationEntry } from '../types.js';

const SOURCE = 'slack';

export type SlackCredentials = NonNullable<VendorCredentials['slack']>;

export interface SlackData {
  channel: Record<string, unknown>;
  messages: unknown[];
  users: Record<string, unknown>;
}

/** Read scopes the harvester needs (public and private channels, users). */
export const SLACK_READ_SCOPES = ['channels:history', 'groups:history', 'channels:read', 'groups:read', 'users:read'] as const;

const PAGE_LIMIT = 200;
/** a runaway cursor (server bug) must not loop for ever */
const MAX_PAGES = 10_000;
const USER_CONCURRENCY = 4;

/** Slack `ok:false` codes that are worth another attempt. */
const RETRYABLE_CODES = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
/** auth.test codes meaning "the credential itself was refused". */
const AUTH_CODES = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission']);

type Msg = Record<string, unknown> & { ts: string };

/** A logger that prints nothing: no token or message text can reach the console through the SDK. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

/** A failed Slack call after retries; `code` is Slack's `error` string when the API answered ok:false. */
class SlackCallError extends VendorError {
  constructor(
    message: string,
    status: number | null,
    retryable: boolean,
    readonly code: string | null,
  ) {
    super(SOURCE, message, status, retryable);
  }
}

/** Removes the token (and anything shaped like a Slack token) from an error or log line. */
export function makeScrub(token: string): (s: string) => string {
  return (s) => {
    let out = token ? s.split(token).join('[REDACTED]') : s;
    out = out.replace(/xox[a-z]-[A-Za-z0-9-]+/g, '[REDACTED]').replace(/xapp-[A-Za-z0-9-]+/g, '[REDACTED]');
    return out.length > 300 ? `${out.slice(0, 300)}…` : out;
  };
}

interface SlackApi {
  call<T>(method: string, args: Record<string, unknown>): Promise<T & { response_metadata?: { next_cursor?: string; scopes?: string[] } }>;
  scrub: (s: string) => string;
}

/**
 * The Web API client every Slack caller uses: SDK retries off (our retry policy decides),
 * rate-limited calls rejected to that policy, a silent logger, a per-request timeout and relative
 * method URLs only, so the token never goes anywhere but the configured API.
 */
export function slackWebClient(creds: SlackCredentials, policy: HttpPolicy): WebClient {
  return new WebClient(creds.token, {
    slackApiUrl: `${creds.apiUrl.replace(/\/+$/, '')}/`,
    logger: silentLogger,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: policy.timeoutMs,
    allowAbsoluteUrls: false,
    maxRequestConcurrency: USER_CONCURRENCY,
  });
}

function slackApi(creds: SlackCredentials, policy: HttpPolicy, log: (m: string) => void): SlackApi {
  const scrub = makeScrub(creds.token);
  const client = slackWebClient(creds, policy);

  return {
    scrub,
    async call<T>(method: string, args: Record<string, unknown>) {
      let lastCode: string | null = null;
      const named = (m: string) => (m.startsWith(`${method}:`) ? m : `${method}: ${m}`);
      const classify = (err: unknown): Classified => {
        const c = classifySlackError(method, err);
        lastCode = c.code;
        return { status: c.status, retryable: c.retryable, retryAfterMs: c.retryAfterMs, message: scrub(c.message) };
      };
      try {
        return (await withRetries(() => client.apiCall(method, args), {
          source: SOURCE,
          policy,
          classify,
          onRetry: (attempt, delayMs, why) => log(`slack: ${method} failed (${scrub(named(why))}); retry ${attempt}/${policy.retries} in ${delayMs} ms`),
        })) as unknown as T & { response_metadata?: { next_cursor?: string; scopes?: string[] } };
      } catch (err) {
        const v = err as VendorError;
        throw new SlackCallError(scrub(named(v.message ?? String(err))), v.status ?? null, v.retryable ?? false, lastCode);
      }
    },
  };
}

interface SlackClassified extends Classified {
  code: string | null;
}

/** What an @slack/web-api error means for retrying. Exported for tests. */
export function classifySlackError(method: string, err: unknown): SlackClassified {
  const e = err as {
    code?: string;
    name?: string;
    message?: string;
    retryAfter?: number;
    statusCode?: number;
    statusMessage?: string;
    headers?: Record<string, string>;
    data?: { error?: string; needed?: string };
    original?: Error & { cause?: { code?: string; message?: string } };
  };
  switch (e?.code) {
    case ErrorCode.RateLimitedError: {
      const sec = typeof e.retryAfter === 'number' ? e.retryAfter : null;
      return { status: 429, retryable: true, retryAfterMs: sec === null ? null : sec * 1000, code: null, message: `${method}: rate limited (HTTP 429${sec === null ? '' : `, Retry-After ${sec}s`})` };
    }
    case ErrorCode.HTTPError: {
      const status = typeof e.statusCode === 'number' ? e.statusCode : null;
      const retryAfterMs = parseRetryAfter(e.headers?.['retry-after'] ?? null);
      return { status, retryable: classifyStatus(status), retryAfterMs, code: null, message: `${method}: HTTP ${status ?? '?'}${e.statusMessage ? ` ${e.statusMessage}` : ''}` };
    }
    case ErrorCode.PlatformError: {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      const needed = typeof e.data?.needed === 'string' ? ` (needed: ${e.data.needed})` : '';
      const ratelimited = code === 'ratelimited' || code === 'rate_limited';
      return { status: ratelimited ? 429 : null, retryable: RETRYABLE_CODES.has(code), retryAfterMs: null, code, message: `${method}: ${code}${needed}` };
    }
    case ErrorCode.RequestError: {
      const o = e.original;
      const aborted = o?.name === 'TimeoutError' || o?.name === 'AbortError';
      const what = aborted ? 'request timed out' : `network error: ${o ? networkErrorMessage(o) : 'request failed'}`;
      return { status: null, retryable: true, retryAfterMs: null, code: null, message: `${method}: ${what}` };
    }
    default:
      break;
  }
  const message = e?.message ?? String(err);
  // a 429 whose Retry-After the SDK could not read (it throws a plain Error)
  if (/rate limit|Retry header/i.test(message)) return { status: 429, retryable: true, retryAfterMs: null, code: null, message: `${method}: rate limited (HTTP 429)` };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { status: null, retryable: true, retryAfterMs: null, code: null, message: `${method}: request timed out` };
  return { status: null, retryable: false, retryAfterMs: null, code: null, message: `${method}: ${message}` };
}

// ---------------------------------------------------------------------------------------------
// ts handling: Slack ts strings compared exactly (microseconds as an integer, < 2^53)

function tsMicros(ts: unknown): number | null {
  if (typeof ts !== 'string') return null;
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(ts.trim());
  if (!m) return null;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

const msToSlackTs = (ms: number) => (Math.floor(ms) / 1000).toFixed(6);

const byTsAsc = (a: Msg, b: Msg) => (tsMicros(a.ts) ?? 0) - (tsMicros(b.ts) ?? 0) || (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// channel discovery

interface ChannelRecord {
  id: string;
  name?: string;
  created?: number;
  is_archived?: boolean;
}

const looksLikeChannelId = (s: string) => /^[CGD][A-Z0-9]{6,}$/.test(s);

function minimalChannel(c: ChannelRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: c.id };
  if (typeof c.name === 'string') out.name = c.name;
  if (typeof c.created === 'number') out.created = c.created;
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Name contains the incident number (not as part of a longer number) or the incident id. */
export function channelMatchesIncident(name: string, incident: Pick<HarvestedIncident, 'id' | 'number'>): boolean {
  const n = name.toLowerCase();
  if (incident.number !== null && Number.isFinite(incident.number)) {
    if (new RegExp(`(^|[^0-9])${escapeRegExp(String(incident.number))}([^0-9]|$)`).test(n)) return true;
  }
  const id = incident.id.trim().toLowerCase();
  return id.length >= 3 && n.includes(id);
}

function rankMatches(matches: ChannelRecord[], incident: HarvestedIncident): ChannelRecord {
  const created = Date.parse(incident.createdAt) / 1000;
  const score = (c: ChannelRecord) => [
    /^(inc|incident|sev)/i.test(c.name ?? '') ? 0 : 1,
    typeof c.created === 'number' && Number.isFinite(created) ? Math.abs(c.created - created) : Number.MAX_SAFE_INTEGER,
  ] as const;
  return [...matches].sort((a, b) => {
    const [a1, a2] = score(a);
    const [b1, b2] = score(b);
    return a1 - b1 || a2 - b2;
  })[0]!;
}

interface ListResponse {
  channels?: ChannelRecord[];
}

/** Pages conversations.list; `pick` sees each page and returns a channel to stop. */
async function scanChannels(
  api: SlackApi,
  maxScanned: number,
  log: (m: string) => void,
  pick: (page: ChannelRecord[]) => ChannelRecord | null,
): Promise<{ found: ChannelRecord | null; scanned: number; capped: boolean }> {
  let types = 'public_channel,private_channel';
  let cursor: string | undefined;
  let scanned = 0;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    let res: ListResponse & { response_metadata?: { next_cursor?: string } };
    try {
      res = await api.call<ListResponse>('conversations.list', { types, exclude_archived: false, limit: PAGE_LIMIT, cursor });
    } catch (err) {
      // without groups:read a mixed list is refused; public channels are still worth a look
      if (err instanceof SlackCallError && err.code === 'missing_scope' && types !== 'public_channel' && cursor === undefined) {
        log('slack: conversations.list refused private channels (missing scope); scanning public channels only');
        types = 'public_channel';
        pages--;
        continue;
      }
      throw err;
    }
    const page = (res.channels ?? []).slice(0, Math.max(0, maxScanned - scanned));
    scanned += page.length;
    const found = pick(page);
    if (found) return { found, scanned, capped: false };
    const next = res.response_metadata?.next_cursor;
    if (!next) return { found: null, scanned, capped: false };
    if (scanned >= maxScanned) return { found: null, scanned, capped: true };
    if (next === cursor) return { found: null, scanned, capped: false };
    cursor = next;
  }
  return { found: null, scanned, capped: true };
}

interface InfoResponse {
  channel?: ChannelRecord;
}

async function channelInfo(api: SlackApi, id: string): Promise<ChannelRecord> {
  const res = await api.call<InfoResponse>('conversations.info', { channel: id });
  if (!res.channel || typeof res.channel.id !== 'string') throw new SlackCallError('conversations.info: no channel in the answer', null, false, null);
  return res.channel;
}

type Resolved = { channel: ChannelRecord; how: string } | { error: HarvestErrorEntry };

async function resolveChannel(api: SlackApi, ctx: HarvestContext, explicitOpt: string | null | undefined): Promise<Resolved> {
  const explicit = explicitOpt?.trim() ? { value: explicitOpt.trim(), from: 'the channel option' } : ctx.service?.slackChannel?.trim() ? { value: ctx.service.slackChannel.trim(), from: `the service mapping for ${ctx.service.name || 'the service'}` } : null;

  if (explicit) {
    const raw = explicit.value.replace(/^#/, '');
    if (looksLikeChannelId(raw)) {
      try {
        return { channel: await channelInfo(api, raw), how: `${raw} from ${explicit.from}` };
      } catch (err) {
        if (err instanceof SlackCallError && err.code === 'channel_not_found') {
          return { error: { source: SOURCE, message: `slack channel ${raw} (from ${explicit.from}) not found or not visible to the token`, retryable: false } };
        }
        throw err;
      }
    }
    const wanted = raw.toLowerCase();
    const { found, scanned, capped } = await scanChannels(api, ctx.caps.slackChannelsScanned, ctx.log, (page) => page.find((c) => (c.name ?? '').toLowerCase() === wanted) ?? null);
    if (!found) {
      return { error: { source: SOURCE, message: `slack channel #${raw} (from ${explicit.from}) not found among ${scanned} channels scanned${capped ? ' (scan limit reached)' : ''}`, retryable: false } };
    }
    return { channel: await channelInfo(api, found.id), how: `#${raw} from ${explicit.from}` };
  }

  const { found, scanned, capped } = await scanChannels(api, ctx.caps.slackChannelsScanned, ctx.log, (page) => {
    const matches = page.filter((c) => typeof c.id === 'string' && typeof c.name === 'string' && channelMatchesIncident(c.name, ctx.incident));
    return matches.length ? rankMatches(matches, ctx.incident) : null;
  });
  if (!found) {
    const what = [ctx.incident.number !== null ? `number ${ctx.incident.number}` : null, `id ${ctx.incident.id}`].filter(Boolean).join(' or ');
    return {
      error: {
        source: SOURCE,
        message: `no incident channel found: no channel name contains the incident ${what} among ${scanned} channels scanned${capped ? ' (scan limit reached)' : ''}; set slack_channel for the service or pass the channel explicitly`,
        retryable: false,
      },
    };
  }
  return { channel: await channelInfo(api, found.id), how: `discovered by incident number/id among ${scanned} channels` };
}

// ---------------------------------------------------------------------------------------------
// messages

interface MessagesResponse {
  messages?: Msg[];
  has_more?: boolean;
}

async function* pages(api: SlackApi, method: string, args: Record<string, unknown>): AsyncGenerator<{ messages: Msg[]; more: boolean }> {
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const res = await api.call<MessagesResponse>(method, { ...args, limit: PAGE_LIMIT, cursor });
    const next = res.response_metadata?.next_cursor;
    const more = !!next && next !== cursor;
    yield { messages: (res.messages ?? []).filter((m): m is Msg => !!m && typeof m === 'object' && typeof m.ts === 'string'), more };
    if (!more) return;
    cursor = next;
  }
}

// ---------------------------------------------------------------------------------------------
// users

const MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

function userIdsOf(messages: Msg[]): string[] {
  const ids = new Set<string>();
  for (const m of messages) {
    if (typeof m.user === 'string' && /^[UW][A-Z0-9]+$/.test(m.user)) ids.add(m.user);
    if (typeof m.text === 'string') for (const hit of m.text.matchAll(MENTION)) ids.add(hit[1]!);
  }
  return [...ids];
}

interface UserResponse {
  user?: { name?: string; real_name?: string; tz?: string; is_bot?: boolean; profile?: { real_name?: string } };
}

function keptUserFields(u: NonNullable<UserResponse['user']>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof u.name === 'string') out.name = u.name;
  const real = typeof u.real_name === 'string' ? u.real_name : u.profile?.real_name;
  if (typeof real === 'string') out.real_name = real;
  if (typeof u.tz === 'string') out.tz = u.tz;
  if (typeof u.is_bot === 'boolean') out.is_bot = u.is_bot;
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Harvests the incident channel. Never throws: a failure to find or read the channel gives
 * `data: null` and an error; failures on thread replies or users.info are recorded but keep the
 * rest. When more than `caps.slackMessages` messages are in the window, the most recent ones are
 * kept (history is read newest first, and the window ends shortly after resolution, so the
 * incident itself comes before the pre-incident lookback).
 */
export async function harvestSlack(
  creds: SlackCredentials,
  ctx: HarvestContext,
  opts: { channel?: string | null },
): Promise<SourceOutcome<SlackData>> {
  const errors: HarvestErrorEntry[] = [];
  const truncated: TruncationEntry[] = [];
  const api = slackApi(creds, ctx.http, ctx.log);
  const log = (m: string) => ctx.log(api.scrub(m));
  const cap = Math.max(1, Math.floor(ctx.caps.slackMessages));

  try {
    const resolved = await resolveChannel(api, ctx, opts.channel);
    if ('error' in resolved) {
      log(`slack: ${resolved.error.message}`);
      return { data: null, errors: [resolved.error], truncated };
    }
    const channel = resolved.channel;
    const channelId = channel.id;
    log(`slack: channel #${channel.name ?? '?'} (${channelId}), ${resolved.how}`);

    const fromUs = Math.floor(ctx.window.fromMs) * 1000;
    const toUs = Math.floor(ctx.window.toMs) * 1000;
    const inWindow = (m: Msg) => {
      const t = tsMicros(m.ts);
      return t !== null && t >= fromUs && t <= toUs;
    };
    const windowArgs = { oldest: msToSlackTs(ctx.window.fromMs), latest: msToSlackTs(ctx.window.toMs), inclusive: true };

    // top-level messages, newest first, until the window is exhausted or the cap is reached
    const byTs = new Map<string, Msg>();
    let historyCapped = false;
    let historyPages = 0;
    for await (const page of pages(api, 'conversations.history', { channel: channelId, ...windowArgs })) {
      historyPages++;
      for (const m of page.messages) if (inWindow(m) && !byTs.has(m.ts)) byTs.set(m.ts, m);
      if (page.more && byTs.size >= cap) {
        historyCapped = true;
        break;
      }
    }
    const topLevel = byTs.size;

    // thread replies, newest threads first, while under the cap
    const parents = [...byTs.values()]
      .filter((m) => Number(m.reply_count) > 0 && (m.thread_ts === undefined || m.thread_ts === m.ts))
      .sort((a, b) => byTsAsc(b, a));
    let repliesCapped = false;
    let repliesFailed = false;
    let threadsRead = 0;
    for (let i = 0; i < parents.length; i++) {
      const parent = parents[i]!;
      if (byTs.size >= cap) {
        repliesCapped = true;
        break;
      }
      try {
        for await (const page of pages(api, 'conversations.replies', { channel: channelId, ts: parent.ts, ...windowArgs })) {
          for (const m of page.messages) if (m.ts !== parent.ts && inWindow(m) && !byTs.has(m.ts)) byTs.set(m.ts, m);
        }
        threadsRead++;
      } catch (err) {
        // retries are spent; the other threads would most likely fail the same way
        const e = err as SlackCallError;
        const left = parents.length - i;
        const why = api.scrub(e.message ?? String(err));
        errors.push({ source: SOURCE, message: `replies of ${left} of ${parents.length} threads not read: ${why}`, retryable: e.retryable ?? false });
        log(`slack: replies of ${left} threads not read (${why})`);
        repliesFailed = true;
        break;
      }
    }

    let messages = [...byTs.values()].sort(byTsAsc);
    const seen = messages.length;
    if (seen > cap || historyCapped || repliesCapped) {
      messages = messages.slice(Math.max(0, seen - cap));
      const total = historyCapped || repliesCapped || repliesFailed ? null : seen;
      truncated.push({ source: SOURCE, what: 'messages', kept: messages.length, total });
      log(`slack: messages capped at ${cap} (kept ${messages.length}${total === null ? '' : ` of ${total}`})`);
    }
    log(`slack: ${messages.length} messages (${topLevel} top-level over ${historyPages} history pages, ${threadsRead} threads read)`);

    // users: authors and mentions; a failure for one user is not fatal
    const ids = userIdsOf(messages);
    const got = new Map<string, Record<string, unknown>>();
    let firstFailure: SlackCallError | null = null;
    let stop = false;
    let next = 0;
    const worker = async () => {
      while (!stop && next < ids.length) {
        const id = ids[next++]!;
        try {
          const res = await api.call<UserResponse>('users.info', { user: id });
          if (res.user) got.set(id, keptUserFields(res.user));
        } catch (err) {
          firstFailure ??= err as SlackCallError;
          // only "this user" errors let the others go on; an outage (retries already spent), a
          // missing scope or a refused token would fail every remaining user the same way
          const code = err instanceof SlackCallError ? err.code : null;
          if (code !== 'user_not_found' && code !== 'user_not_visible') stop = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(USER_CONCURRENCY, ids.length) }, worker));
    const users: Record<string, unknown> = {};
    for (const id of ids) {
      const u = got.get(id);
      if (u) users[id] = u;
    }
    const missingUsers = ids.length - got.size;
    if (missingUsers > 0) {
      const f = firstFailure as SlackCallError | null;
      const why = f ? api.scrub(f.message) : 'no user in the answer';
      errors.push({ source: SOURCE, message: `users.info: ${missingUsers} of ${ids.length} users not read (${why}); their names cannot be recognised for redaction`, retryable: f?.retryable ?? false });
      log(`slack: ${missingUsers} of ${ids.length} users not read (${why})`);
    }

    return { data: { channel: minimalChannel(channel), messages, users }, errors, truncated };
  } catch (err) {
    const e = err as Partial<VendorError>;
    const message = api.scrub(e?.message ?? String(err));
    log(`slack: failed: ${message}`);
    const hint = err instanceof SlackCallError && err.code === 'not_in_channel' ? ' (invite the Slack app to the channel)' : '';
    return { data: null, errors: [...errors, { source: SOURCE, message: `${message}${hint}`, retryable: e?.retryable ?? false }], truncated: [] };
  }
}

/** `hindsight doctor` for Slack: auth.test, then the token's scopes against SLACK_READ_SCOPES. */
export async function checkSlack(creds: SlackCredentials, policy: HttpPolicy): Promise<DoctorCheck> {
  const api = slackApi(creds, policy, () => {});
  const base = { source: 'slack' as const, configured: true };
  try {
    const res = await api.call<{ team?: string; user?: string }>('auth.test', {});
    const scopes = res.response_metadata?.scopes;
    const who = [res.user ? `as ${res.user}` : null, res.team ? `in ${res.team}` : null].filter(Boolean).join(' ');
    if (!Array.isArray(scopes)) {
      return { ...base, reachable: true, authorized: true, missing: [], detail: api.scrub(`auth.test ok${who ? ` ${who}` : ''}; the API did not report the token's scopes (x-oauth-scopes)`) };
    }
    const granted = new Set(scopes.map((s) => s.trim()));
    const missing = SLACK_READ_SCOPES.filter((s) => !granted.has(s));
    return {
      ...base,
      reachable: true,
      authorized: true,
      missing,
      detail: api.scrub(`auth.test ok${who ? ` ${who}` : ''}; ${missing.length ? `missing scopes: ${missing.join(', ')}` : 'all read scopes granted'}`),
    };
  } catch (err) {
    const e = err as SlackCallError;
    const message = api.scrub(e?.message ?? String(err));
    if (e instanceof SlackCallError && e.code !== null) {
      const refused = AUTH_CODES.has(e.code);
      return { ...base, reachable: true, authorized: refused ? false : null, missing: [], detail: refused ? `token refused: ${message}` : message };
    }
    // an HTTP status means something answered; a network error or timeout means nothing did
    const answered = typeof e?.status === 'number';
    return { ...base, reachable: answered, authorized: null, missing: [], detail: answered ? message : `unreachable: ${message}` };
  }
}
