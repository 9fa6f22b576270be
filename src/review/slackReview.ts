// The Slack review loop: a post-mortem draft is posted to a review channel (Block Kit summary,
// the full Markdown as a file in the thread, the high-relevance timeline as a thread reply), and
// a human approves it (✅ or an `approve` reply from a configured approver) or asks for changes
// (`changes: …` replies).
//
// Idempotency. Every message Hindsight posts carries message metadata naming the incident
// (`hindsight_postmortem`, `hindsight_postmortem_timeline`, `hindsight_postmortem_file` for the
// inline Markdown fallback). publishDraft looks for an earlier post of the same incident before
// posting, and for each thread part before adding it, so a crash between posting and recording
// the ts, or a retry after a partial failure, never posts twice: the next run finds what is there
// and finishes the rest. An uploaded file cannot carry metadata (files.completeUploadExternal has
// no metadata argument), so the thread file is recognised by its name, `postmortem-<id>.md`; the
// same holds for the optional chart PNG and HTML report (`postmortem-<id>.chart.png`, `.html`).
// Retries of writes re-check Slack before re-sending, so a post whose answer was lost (timeout)
// is found instead of duplicated.
//
// Calls: the official @slack/web-api client with its own retries off; every call goes through
// withRetries with the harvester's Slack classifier (429 Retry-After, 5xx / network / timeout
// backoff, other errors fail at once). The SDK logger prints nothing; our log lines carry method
// names and retry counts only — never the token, never message text.
//
// Content. Everything posted comes from the (already redacted) report; each string still goes
// through redactSecrets as a last guard, then through Slack's mrkdwn escaping of &, < and > (so a
// report can never produce a mention such as <!channel> or a link).
import { createHash } from 'node:crypto';
import { redactSecrets } from '../core/redact.js';
import { triggerLabel, type Report } from '../core/report.js';
import { VendorError, withRetries, type Classified } from '../harvest/retry.js';
import { classifySlackError, makeScrub, slackWebClient, type SlackCredentials } from '../harvest/sources/slack.js';
import type { HttpPolicy } from '../harvest/types.js';

const SOURCE = 'slack';

export const DRAFT_EVENT = 'hindsight_postmortem';
export const FILE_EVENT = 'hindsight_postmortem_file';
export const TIMELINE_EVENT = 'hindsight_postmortem_timeline';

/** Block Kit limits (docs.slack.dev/reference/block-kit): section text 3000, header 150, 50 blocks. */
export const SECTION_MAX = 3000;
export const HEADER_MAX = 150;
export const BLOCKS_MAX = 50;
/** Fallback `text` is cut by Slack at 40,000 characters; notifications show far less. */
const FALLBACK_TEXT_MAX = 3000;
/** One message of the inline Markdown fallback, fences included. */
export const INLINE_CHUNK_MAX = 3500;

/**
 * Scopes the review loop uses: posting and updating (chat:write), the file (files:write; without
 * it the Markdown is posted inline), finding the channel by name (channels:read, groups:read for
 * private ones), history and threads (channels:history / groups:history), approvals
 * (reactions:read, usergroups:read when approver groups are configured).
 */
export const SLACK_REVIEW_SCOPES = ['chat:write', 'files:write', 'channels:read', 'groups:read', 'channels:history', 'groups:history', 'reactions:read', 'usergroups:read'] as const;

const PAGE_LIMIT = 200;
const MAX_PAGES = 100;

// ---------------------------------------------------------------------------------------------
// client

/** A failed Slack call after retries; `code` is Slack's `error` string when the API answered ok:false. */
export class SlackReviewError extends VendorError {
  constructor(
    message: string,
    status: number | null,
    retryable: boolean,
    readonly code: string | null,
    retryAfterMs: number | null = null,
  ) {
    super(SOURCE, message, status, retryable, retryAfterMs);
    this.name = 'SlackReviewError';
  }
}

type SlackResult = Record<string, unknown> & { response_metadata?: { next_cursor?: string; scopes?: string[] } };

export interface SlackReviewClient {
  /**
   * One Web API call with the retry policy. For writes, `recheck` runs before every retry (not
   * before the first attempt): when it finds the effect of an earlier attempt, that is returned
   * instead of writing again.
   */
  call<T = SlackResult>(method: string, args: Record<string, unknown>, recheck?: () => Promise<T | null>): Promise<T>;
  /** files.uploadV2 (getUploadURLExternal, upload, completeUploadExternal) with the same policy. */
  uploadFile(args: { channel: string; threadTs: string; filename: string; title: string; content: string | Uint8Array; comment?: string }, recheck?: () => Promise<boolean>): Promise<void>;
  scrub: (s: string) => string;
}

/** The review loop's Slack client: the shared Web API client with the harvester's error classifier. */
export function slackReviewClient(creds: SlackCredentials, policy: HttpPolicy, log: (message: string) => void = () => {}): SlackReviewClient {
  const scrub = makeScrub(creds.token);
  const client = slackWebClient(creds, policy);

  async function run<T>(method: string, op: (attempt: number) => Promise<T>): Promise<T> {
    let lastCode: string | null = null;
    let attempt = 0;
    const named = (m: string) => (m.startsWith(`${method}:`) ? m : `${method}: ${m}`);
    const classify = (err: unknown): Classified => {
      const c = classifySlackError(method, err);
      lastCode = c.code;
      return { status: c.status, retryable: c.retryable, retryAfterMs: c.retryAfterMs, message: scrub(c.message) };
    };
    try {
      return await withRetries(
        () => {
          lastCode = null;
          return op(attempt++);
        },
        {
          source: SOURCE,
          policy,
          classify,
          onRetry: (n, delayMs, why) => log(`slack review: ${method} failed (${scrub(named(why))}); retry ${n}/${policy.retries} in ${delayMs} ms`),
        },
      );
    } catch (err) {
      const v = err as VendorError;
      throw new SlackReviewError(scrub(named(v.message ?? String(err))), v.status ?? null, v.retryable ?? false, lastCode, v.retryAfterMs ?? null);
    }
  }

  return {
    scrub,
    call<T = SlackResult>(method: string, args: Record<string, unknown>, recheck?: () => Promise<T | null>): Promise<T> {
      return run(method, async (attempt) => {
        if (attempt > 0 && recheck) {
          const done = await recheck();
          if (done !== null) return done;
        }
        return (await client.apiCall(method, args)) as unknown as T;
      });
    },
    async uploadFile(a, recheck) {
      await run('files.uploadV2', async (attempt) => {
        if (attempt > 0 && recheck && (await recheck())) return;
        await client.filesUploadV2({
          channel_id: a.channel,
          thread_ts: a.threadTs,
          filename: a.filename,
          title: a.title,
          ...(typeof a.content === 'string' ? { content: a.content } : { file: Buffer.from(a.content) }),
          ...(a.comment ? { initial_comment: a.comment } : {}),
        });
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// text helpers

/** Slack mrkdwn escaping: the only three characters Slack wants escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Last guard, then escaping: every report string posted goes through this. */
const safe = (text: string) => escapeMrkdwn(redactSecrets(text));

/**
 * Cuts escaped text to at most `max` characters with an ellipsis, never inside an entity
 * (`&amp;`) or a surrogate pair, and closes an inline-code span left open by the cut.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 2));
  cut = cut.replace(/&[a-z]{0,4}$/, '');
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const ticks = (cut.match(/`/g) ?? []).length;
  return ticks % 2 === 1 ? `${cut}…\`` : `${cut}…`;
}

type TextObject = { type: 'mrkdwn' | 'plain_text'; text: string; emoji?: boolean };
export type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text: TextObject }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' };

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_MAX) } });

/** At most 50 blocks: the last kept block says that the rest was cut. */
function limitBlocks(blocks: Block[]): Block[] {
  if (blocks.length <= BLOCKS_MAX) return blocks;
  return [...blocks.slice(0, BLOCKS_MAX - 1), { type: 'context', elements: [{ type: 'mrkdwn', text: `… ${blocks.length - BLOCKS_MAX + 1} more blocks not shown` }] }];
}

/** Lines grouped into sections of at most SECTION_MAX characters (a too-long line is clipped). */
function sectionsOf(heading: string, lines: string[]): Block[] {
  const blocks: Block[] = [];
  let current = heading;
  for (const raw of lines) {
    const line = clip(raw, SECTION_MAX - 1);
    if (current.length + 1 + line.length > SECTION_MAX) {
      blocks.push(section(current));
      current = line;
    } else {
      current = current ? `${current}\n${line}` : line;
    }
  }
  if (current) blocks.push(section(current));
  return blocks;
}

const short = (sha: string) => sha.slice(0, 12);

export const APPROVE_HINT = 'Reply `approve` or react with :white_check_mark: to approve; reply `changes: …` to request changes';

/** The top-level draft message: Block Kit blocks and the fallback text. Exported for tests. */
export function draftMessage(report: Report, revision: number): { blocks: Block[]; text: string } {
  const inc = report.incident;
  const blocks: Block[] = [];
  blocks.push({ type: 'header', text: { type: 'plain_text', text: clip(safe(`Post-mortem draft: ${inc.title}`), HEADER_MAX), emoji: true } });
  blocks.push(section(`*Impact*\n${safe(report.impact)}`));
  if (report.trigger) {
    const t = report.trigger;
    const what = triggerLabel(t);
    const evidence = t.evidence.slice(0, 3).map((e) => `• ${safe(e)}`);
    blocks.push(section([`*Trigger* (confidence ${t.confidence.toFixed(2)})`, `${safe(what)}${t.sha ? `, commit \`${safe(short(t.sha))}\`` : ''}`, ...evidence].join('\n')));
  } else {
    blocks.push(section(`*Trigger*\nNo change triggered this incident. ${safe(report.trigger_reason)}`));
  }
  blocks.push(section(`*Root cause*\n${safe(report.root_cause)}`));
  const items = report.action_items.map((a) => `• *${safe(a.priority)}* (${safe(a.type)}) ${safe(a.title)}`);
  blocks.push(...sectionsOf('*Action items*', items.length ? items : ['_none_']));
  blocks.push(...pastIncidentBlocks(report));
  const facts = [`Incident ${safe(inc.id)}`, inc.service ? `service ${safe(inc.service)}` : null, inc.severity ? `severity ${safe(inc.severity)}` : null, `revision ${revision}`].filter(Boolean).join(' · ');
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(APPROVE_HINT, SECTION_MAX) }, { type: 'mrkdwn', text: clip(facts, SECTION_MAX) }] });
  const text = clip(safe(`Post-mortem draft for ${inc.id}: ${inc.title}. Reply "approve" or "changes: …" in the thread.`), FALLBACK_TEXT_MAX);
  return { blocks: limitBlocks(blocks), text };
}

/** A Slack link <url|label>, or the label alone when the URL could break the markup. */
function slackLink(url: string | null | undefined, label: string): string {
  return url && /^https?:\/\/[^\s|<>]+$/.test(url) ? `<${url}|${label.replace(/[|>]/g, ' ')}>` : label;
}

/** "Seen before" (the past incidents this one repeats and their open action items), else the top similar ones. */
function pastIncidentBlocks(report: Report): Block[] {
  const seen = report.seen_before ?? [];
  if (seen.length) {
    const lines = seen.slice(0, 3).flatMap((p) => [
      `• ${slackLink(p.url, safe(`${p.id}: ${p.title}`))}${p.date ? ` (${safe(p.date.slice(0, 10))})` : ''} — ${safe(p.why_similar.slice(0, 2).join('; '))}`,
      ...p.open_action_items.slice(0, 3).map((a) => `    ◦ still open: ${a.ticket ? `${slackLink(a.url, safe(a.ticket))} ` : ''}${safe(a.title)}`),
    ]);
    return sectionsOf('*Seen before*', lines);
  }
  if (!report.similar_incidents.length) return [];
  return sectionsOf('*Similar past incidents*', report.similar_incidents.slice(0, 3).map((p) => `• ${safe(`${p.id}: ${p.title}`)} — ${safe(p.why_similar)}`));
}

/** The thread reply with the high-relevance timeline. Exported for tests. */
export function timelineMessage(report: Report): { blocks: Block[]; text: string } {
  const high = report.timeline.filter((e) => e.relevance === 'high');
  const lines = high.map((e) => `• \`${safe(e.at)}\` ${safe(e.source)} ${safe(e.kind)}: ${safe(e.summary)}${e.count && e.count > 1 ? ` (×${e.count})` : ''}`);
  const heading = `*Timeline* — ${high.length} high-relevance of ${report.timeline.length} events (UTC); the full timeline is in the report.`;
  const blocks = limitBlocks(sectionsOf(heading, lines.length ? lines : ['_No high-relevance events._']));
  return { blocks, text: clip(`Timeline: ${high.length} high-relevance events`, FALLBACK_TEXT_MAX) };
}

/**
 * The Markdown as code-block messages of at most INLINE_CHUNK_MAX characters each (fences
 * included), split at line ends where possible. Escaped for mrkdwn; ``` in the text is broken
 * up so it cannot close the block. Exported for tests.
 */
export function inlineChunks(markdown: string, max = INLINE_CHUNK_MAX): string[] {
  const body = escapeMrkdwn(redactSecrets(markdown)).replace(/```/g, '`\u200b``');
  const room = max - 8; // ```\n … \n```
  const chunks: string[] = [];
  let current = '';
  const flush = () => {
    if (current) chunks.push(current);
    current = '';
  };
  for (const line of body.split('\n')) {
    let rest = line;
    while (rest.length > room) {
      flush();
      let cut = room;
      const entity = /&[a-z]{0,4}$/.exec(rest.slice(0, cut));
      if (entity) cut -= entity[0].length;
      if (/[\uD800-\uDBFF]/.test(rest[cut - 1] ?? '')) cut -= 1;
      chunks.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    if (current && current.length + 1 + rest.length > room) flush();
    current = current ? `${current}\n${rest}` : rest || ' ';
  }
  flush();
  return chunks.map((c) => `\`\`\`\n${c}\n\`\`\``);
}

export function reportFilename(incidentId: string, ext: 'md' | 'html' | 'chart.png' = 'md'): string {
  return `postmortem-${incidentId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${ext}`;
}

/** A thread upload larger than this is left out with a note (Slack allows far more; a review thread needs far less). */
export const MAX_VISUAL_UPLOAD_BYTES = 5 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Slack reads

export interface SlackMessage {
  ts: string;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
  edited?: { user?: string; ts?: string };
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
  files?: Array<{ id?: string; name?: string; title?: string }>;
  reactions?: Array<{ name?: string; users?: string[]; count?: number }>;
}

const looksLikeChannelId = (s: string) => /^[CGD][A-Z0-9]{6,}$/.test(s);

/** `#name`, `name` or an id -> the channel id (conversations.list, paged, when given a name). */
async function resolveChannelId(api: SlackReviewClient, channel: string): Promise<string> {
  const raw = channel.trim().replace(/^#/, '');
  if (looksLikeChannelId(raw)) return raw;
  const wanted = raw.toLowerCase();
  let types = 'public_channel,private_channel';
  let cursor: string | undefined;
  let scanned = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    let res: SlackResult & { channels?: Array<{ id?: string; name?: string }> };
    try {
      res = await api.call('conversations.list', { types, exclude_archived: true, limit: PAGE_LIMIT, cursor });
    } catch (err) {
      // without groups:read a mixed list is refused; public channels are still worth a look
      if (err instanceof SlackReviewError && err.code === 'missing_scope' && types !== 'public_channel' && cursor === undefined) {
        types = 'public_channel';
        page--;
        continue;
      }
      throw err;
    }
    const channels = res.channels ?? [];
    scanned += channels.length;
    const hit = channels.find((c) => typeof c.id === 'string' && (c.name ?? '').toLowerCase() === wanted);
    if (hit?.id) return hit.id;
    const next = res.response_metadata?.next_cursor;
    if (!next || next === cursor) break;
    cursor = next;
  }
  throw new SlackReviewError(`review channel #${raw} not found among ${scanned} channels visible to the token (check the name, or invite the app to a private channel)`, null, false, 'channel_not_found');
}

const isDraftOf = (m: SlackMessage, incidentId: string, event = DRAFT_EVENT) =>
  m.metadata?.event_type === event && m.metadata.event_payload?.incident_id === incidentId;

/**
 * The newest top-level draft of this incident posted since `oldest` (a Slack ts; the whole history
 * when null). conversations.history is read page by page to the end of that window: Slack may
 * answer with fewer messages than `limit` and a next_cursor, so a short page is not the last one,
 * and in a busy channel the earlier post can be several pages back. At most MAX_PAGES pages.
 */
async function findDraft(api: SlackReviewClient, channel: string, incidentId: string, oldest: string | null, log: (message: string) => void): Promise<SlackMessage | null> {
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await api.call<SlackResult & { messages?: SlackMessage[] }>('conversations.history', {
      channel,
      limit: PAGE_LIMIT,
      include_all_metadata: true,
      ...(oldest ? { oldest, inclusive: true } : {}),
      ...(cursor ? { cursor } : {}),
    });
    // newest first, so the first match is the newest draft
    const hit = (res.messages ?? []).find((m) => m && typeof m.ts === 'string' && (m.thread_ts === undefined || m.thread_ts === m.ts) && isDraftOf(m, incidentId));
    if (hit) return hit;
    const next = res.response_metadata?.next_cursor;
    if (!next || next === cursor) return null;
    cursor = next;
  }
  log(`slack review: looked through ${MAX_PAGES} pages of history without finding an earlier draft of ${incidentId}; posting a new one`);
  return null;
}

/** The parent and every reply of a thread, oldest first (conversations.replies, paged). */
async function readThread(api: SlackReviewClient, channel: string, ts: string): Promise<SlackMessage[]> {
  const byTs = new Map<string, SlackMessage>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await api.call<SlackResult & { messages?: SlackMessage[] }>('conversations.replies', { channel, ts, limit: PAGE_LIMIT, include_all_metadata: true, cursor });
    for (const m of res.messages ?? []) if (m && typeof m.ts === 'string') byTs.set(m.ts, m);
    const next = res.response_metadata?.next_cursor;
    if (!next || next === cursor) break;
    cursor = next;
  }
  return [...byTs.values()].sort((a, b) => compareTs(a.ts, b.ts));
}

function tsMicros(ts: unknown): number | null {
  if (typeof ts !== 'string' && typeof ts !== 'number') return null;
  const m = /^(\d+)(?:\.(\d{1,6}))?\d*$/.exec(String(ts).trim());
  if (!m) return null;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

const compareTs = (a: string, b: string) => (tsMicros(a) ?? 0) - (tsMicros(b) ?? 0);

// ---------------------------------------------------------------------------------------------
// publishDraft

export interface PublishOptions {
  /** `#name`, `name` or a channel id */
  channel: string;
  /** the post recorded by an earlier run: updated in place, never reposted */
  existing?: { channel: string; ts: string } | null;
  policy: HttpPolicy;
  /**
   * When revising after feedback: the `lastFeedbackTs` from readDecision that this revision
   * addresses. `changes:` replies newer than it stay outstanding after the update (feedback
   * written while the revision was being prepared is not lost). Default: every reply already in
   * the thread when the update is made counts as addressed — when `existing` is given; a draft
   * found again by metadata (no `existing`) keeps what its previous revision addressed, so a
   * crash-recovery re-publish never swallows feedback.
   */
  addressedFeedbackTs?: string | null;
  /**
   * A Slack ts (or epoch seconds) before which this incident's draft cannot have been posted,
   * e.g. when the incident was first seen: the search for an earlier post reads the channel's
   * history back to it. Without it the search is bounded by page count only.
   */
  since?: string | null;
  /** progress lines (method names and counts only) */
  log?: (message: string) => void;
  /**
   * Uploaded into the thread after the Markdown, each once (recognised by file name): the main
   * chart as a PNG and the HTML report (see review/chartPng.ts reviewVisuals). Both must come from
   * the redacted report; the HTML still goes through redactSecrets as a last guard.
   */
  visuals?: { chartPng?: Uint8Array | null; html?: string | null };
}

export interface PublishResult {
  channel: string;
  ts: string;
  /** true when this call posted the top-level message, false when it found one already there */
  created: boolean;
  /** true when an existing message was updated (chat.update); an unchanged draft is left as it is */
  updated: boolean;
  /** what did not go as planned but did not fail the publish (e.g. the inline Markdown fallback) */
  notes: string[];
}

/**
 * Posts (or updates) the draft of `report` in the review channel, then makes sure its thread
 * holds the full Markdown report and the high-relevance timeline. Safe to call again at any
 * point: it finds what an earlier (possibly crashed) run posted and only adds what is missing.
 * Rejects with a SlackReviewError (a VendorError; `retryable` says whether trying later may help).
 */
export async function publishDraft(creds: SlackCredentials, report: Report, markdown: string, opts: PublishOptions): Promise<PublishResult> {
  const log = opts.log ?? (() => {});
  const api = slackReviewClient(creds, opts.policy, log);
  const incidentId = report.incident.id;
  const notes: string[] = [];

  let channel: string;
  let target: SlackMessage | null = null;
  let thread: SlackMessage[] = [];
  if (opts.existing) {
    channel = opts.existing.channel;
    thread = await readThread(api, channel, opts.existing.ts).catch((err: unknown) => {
      if (err instanceof SlackReviewError && (err.code === 'thread_not_found' || err.code === 'message_not_found')) {
        throw new SlackReviewError(`the recorded draft ${opts.existing!.ts} in ${channel} no longer exists; not reposting`, null, false, 'message_not_found');
      }
      throw err;
    });
    target = thread.find((m) => m.ts === opts.existing!.ts) ?? { ts: opts.existing.ts };
  } else {
    channel = await resolveChannelId(api, opts.channel);
    target = await findDraft(api, channel, incidentId, opts.since ?? null, log);
    if (target) {
      log(`slack review: found the draft of ${incidentId} already posted`);
      thread = await readThread(api, channel, target.ts);
    }
  }

  const engine = report.generated_by.version;
  const digest = draftDigest(report, markdown);
  const addressing = opts.addressedFeedbackTs && tsMicros(opts.addressedFeedbackTs) !== null ? opts.addressedFeedbackTs : null;
  let ts: string;
  let created = false;
  let updated = false;
  if (target && isUnchanged(target, digest, addressing)) {
    // Re-publishing the same draft (a restart after a crash, a retried stage) is not a revision:
    // an update would give the post a new edited.ts and revision number for nothing.
    log(`slack review: the posted draft of ${incidentId} is unchanged; not updating it`);
    ts = target.ts;
  } else if (target) {
    const previous = Number(target.metadata?.event_payload?.version);
    const revision = Number.isInteger(previous) && previous > 0 ? previous + 1 : 2;
    const { blocks, text } = draftMessage(report, revision);
    // What this revision addresses, in Slack-assigned timestamps only (never our clock): what the
    // caller says; else, when updating the draft it recorded, everything in the thread now; else
    // (the draft was found again after a crash, so the caller cannot have read any feedback)
    // what the previous revision addressed.
    const seen = thread.filter((m) => m.ts !== target!.ts).reduce((a, m) => (compareTs(m.ts, a) > 0 ? m.ts : a), target.ts);
    const before = target.metadata?.event_payload?.feedback_through;
    const feedbackThrough = addressing
      ? addressing
      : opts.existing
          ? seen
        : typeof before === 'string' && tsMicros(before) !== null
          ? before
          : target.ts;
    const metadata = { event_type: DRAFT_EVENT, event_payload: { incident_id: incidentId, version: revision, feedback_through: feedbackThrough, engine_version: engine, digest } };
    await api.call('chat.update', { channel, ts: target.ts, text, blocks, metadata });
    ts = target.ts;
    updated = true;
  } else {
    const { blocks, text } = draftMessage(report, 1);
    const metadata = { event_type: DRAFT_EVENT, event_payload: { incident_id: incidentId, version: 1, engine_version: engine, digest } };
    const res = await api.call<SlackResult & { ts?: string }>(
      'chat.postMessage',
      { channel, text, blocks, metadata, unfurl_links: false, unfurl_media: false },
      async () => {
        // an earlier attempt may have posted before its answer was lost
        const found = await findDraft(api, channel, incidentId, opts.since ?? null, log);
        return found ? { ts: found.ts } : null;
      },
    );
    if (typeof res.ts !== 'string') throw new SlackReviewError('chat.postMessage: no ts in the answer', null, false, null);
    ts = res.ts;
    created = true;
  }

  // thread parts, each only when missing
  const replies = () => readThread(api, channel, ts).then((t) => t.filter((m) => m.ts !== ts));
  let current = thread.filter((m) => m.ts !== ts);
  const filename = reportFilename(incidentId);
  const hasFile = (msgs: SlackMessage[]) => msgs.some((m) => (m.files ?? []).some((f) => f.name === filename) || isDraftOf(m, incidentId, FILE_EVENT));
  let canUpload = true;
  if (!hasFile(current)) {
    try {
      await api.uploadFile(
        { channel, threadTs: ts, filename, title: `Post-mortem ${incidentId} (Markdown)`, content: redactSecrets(markdown), comment: 'Full post-mortem draft (Markdown).' },
        async () => hasFile(await replies()),
      );
    } catch (err) {
      if (!(err instanceof SlackReviewError && err.code === 'missing_scope')) throw err;
      notes.push('the Slack app lacks the files:write scope: the Markdown report was posted inline as code-block messages instead of a file');
      log('slack review: no files:write scope; posting the Markdown inline');
      canUpload = false;
      await postInline(api, channel, ts, incidentId, engine, markdown, current, replies);
    }
    current = await replies();
  }

  const visuals = visualUploads(report, opts.visuals);
  if (visuals.length && !canUpload) notes.push('without the files:write scope the chart and the HTML report were not uploaded');
  for (const v of canUpload ? visuals : []) {
    const named = (msgs: SlackMessage[]) => msgs.some((m) => (m.files ?? []).some((f) => f.name === v.filename));
    if (named(current)) continue;
    const size = typeof v.content === 'string' ? Buffer.byteLength(v.content) : v.content.byteLength;
    if (size > MAX_VISUAL_UPLOAD_BYTES) {
      notes.push(`${v.filename} is ${size} bytes, over the ${MAX_VISUAL_UPLOAD_BYTES} byte limit for the thread: not uploaded`);
      continue;
    }
    try {
      await api.uploadFile({ channel, threadTs: ts, ...v }, async () => named(await replies()));
    } catch (err) {
      if (!(err instanceof SlackReviewError && err.code === 'missing_scope')) throw err;
      notes.push('the Slack app lacks the files:write scope: the chart and the HTML report were not uploaded');
      break;
    }
    current = await replies();
  }

  if (!current.some((m) => isDraftOf(m, incidentId, TIMELINE_EVENT))) {
    const { blocks, text } = timelineMessage(report);
    await api.call(
      'chat.postMessage',
      { channel, thread_ts: ts, text, blocks, metadata: { event_type: TIMELINE_EVENT, event_payload: { incident_id: incidentId, engine_version: engine } }, unfurl_links: false, unfurl_media: false },
      async () => ((await replies()).some((m) => isDraftOf(m, incidentId, TIMELINE_EVENT)) ? {} : null),
    );
  }

  log(`slack review: draft of ${incidentId} ${created ? 'posted' : updated ? 'updated' : 'already posted'}`);
  return { channel, ts, created, updated, notes };
}

/** The chart and HTML uploads of a thread, in posting order. */
function visualUploads(report: Report, visuals: PublishOptions['visuals']): Array<{ filename: string; title: string; content: string | Uint8Array; comment: string }> {
  const id = report.incident.id;
  const out: Array<{ filename: string; title: string; content: string | Uint8Array; comment: string }> = [];
  if (visuals?.chartPng?.byteLength) {
    const spike = report.spikes[0];
    out.push({
      filename: reportFilename(id, 'chart.png'),
      title: redactSecrets(spike ? `${spike.metric} around the onset (${id})` : `Leading metric around the onset (${id})`),
      content: visuals.chartPng,
      comment: report.trigger
        ? 'The leading metric around the onset. Red line: the trigger went live; dashed: other deploys and changes.'
        : 'The leading metric around the onset. Dashed lines: deploys and changes (none was found to trigger this incident).',
    });
  }
  if (visuals?.html) {
    out.push({
      filename: reportFilename(id, 'html'),
      title: `Post-mortem ${redactSecrets(id)} (HTML, with charts)`,
      content: redactSecrets(visuals.html),
      comment: 'The report as a self-contained page with the metric charts: open it in a browser; it prints on A4 or Letter.',
    });
  }
  return out;
}

/**
 * What a reviewer sees of a draft (the message without its revision number, and the Markdown
 * report), as a digest kept in the post's metadata so an unchanged draft is recognised.
 */
export function draftDigest(report: Report, markdown: string): string {
  const { blocks, text } = draftMessage(report, 0);
  return createHash('sha256').update(JSON.stringify({ blocks, text })).update('\n').update(redactSecrets(markdown)).digest('hex').slice(0, 32);
}

/**
 * The post already shows this draft, and this call addresses no feedback the post does not
 * already record as addressed (a revision that answers feedback with the same text must still
 * move `feedback_through`).
 */
function isUnchanged(target: SlackMessage, digest: string, addressing: string | null): boolean {
  const payload = target.metadata?.event_type === DRAFT_EVENT ? target.metadata.event_payload : undefined;
  if (payload?.digest !== digest) return false;
  if (addressing === null) return true;
  const through = payload.feedback_through;
  return typeof through === 'string' && tsMicros(through) !== null && compareTs(addressing, through) <= 0;
}

/** The inline fallback: parts already in the thread (by metadata part number) are skipped. */
async function postInline(
  api: SlackReviewClient,
  channel: string,
  ts: string,
  incidentId: string,
  engine: string,
  markdown: string,
  existing: SlackMessage[],
  replies: () => Promise<SlackMessage[]>,
): Promise<void> {
  const note = '_The Slack app cannot upload files (no files:write scope), so the full report follows inline._\n';
  // Chunks leave room for the note, so the first one always says why the report is inline.
  const chunks = inlineChunks(markdown, INLINE_CHUNK_MAX - note.length);
  chunks[0] = note + chunks[0]!;
  const partsOf = (msgs: SlackMessage[]) =>
    new Set(msgs.filter((m) => isDraftOf(m, incidentId, FILE_EVENT)).map((m) => Number(m.metadata?.event_payload?.part)));
  const present = partsOf(existing);
  for (let i = 0; i < chunks.length; i++) {
    const part = i + 1;
    if (present.has(part)) continue;
    await api.call(
      'chat.postMessage',
      {
        channel,
        thread_ts: ts,
        text: chunks[i],
        metadata: { event_type: FILE_EVENT, event_payload: { incident_id: incidentId, part, parts: chunks.length, inline: true, engine_version: engine } },
        unfurl_links: false,
        unfurl_media: false,
      },
      async () => (partsOf(await replies()).has(part) ? {} : null),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// readDecision

export type ReviewStatus = 'pending' | 'approved' | 'changes_requested';

export interface ReviewDecision {
  status: ReviewStatus;
  /** the Slack user id whose approval counted */
  approverId: string | null;
  /** outstanding `changes:` requests (newer than the draft's last revision), oldest first, prefix removed */
  feedback: string[];
  /** ts of the newest outstanding `changes:` reply */
  lastFeedbackTs: string | null;
}

const APPROVE_REACTION = /^(?:white_check_mark|heavy_check_mark)(?:::skin-tone-[2-6])?$/;
const APPROVE_TEXT = /^(?:approve|approved|lgtm)[.!]*$/i;
const CHANGES_TEXT = /^changes\s*:/i;

/** Reply text without leading/trailing mentions (`@hindsight approve`), trimmed. */
function bare(text: string): string {
  return text.replace(/^(?:\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+/, '').replace(/(?:[\s,]*<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*)+$/, '').trim();
}

const fromHuman = (m: SlackMessage) => typeof m.user === 'string' && !m.bot_id && m.subtype !== 'bot_message';

/**
 * The review state of a posted draft.
 *
 * - Approval: a ✅ reaction (white_check_mark / heavy_check_mark, any skin tone) on the draft
 *   (reactions.get), or a thread reply `approve` / `approved` / `lgtm` (case-insensitive, may
 *   mention the bot), FROM AN APPROVER: a user id in `approvers.users` or a member of one of
 *   `approvers.groups` (usergroups.users.list). Anyone else's approval is ignored.
 * - With no approvers configured at all, nobody can approve: the loop fails closed rather than
 *   letting any channel member publish a post-mortem.
 * - Feedback: thread replies starting with `changes:` (after any leading mention) from any human
 *   in the channel. Feedback is outstanding while it is newer than what the draft's last revision
 *   addressed: the `feedback_through` ts publishDraft records in the draft's metadata on every
 *   update (the caller's `addressedFeedbackTs`, else the newest reply in the thread at the time),
 *   or, for a draft updated by something else, its last edit (`edited.ts`). Only Slack-assigned
 *   timestamps are compared, never the local clock.
 * - Decision, first match wins:
 *   1. `approved` — an approver replied `approve` after the draft was first posted and after the
 *      last `changes:` reply (an approval after feedback overrides it). Revisions do not reset
 *      it: an approval given while the draft was being updated, or before a restart re-checked
 *      the post, still counts;
 *   2. `approved` — an approver's ✅ is on the draft and no feedback is outstanding (Slack does not
 *      date reactions, so a ✅ cannot outrank a newer `changes:` request; it does survive
 *      revisions — the approver removes it to withdraw);
 *   3. `changes_requested` — feedback is outstanding;
 *   4. `pending`.
 * - Bot messages (bot_id / bot_message) are neither feedback nor approvals; the bot's own ✅
 *   counts only if its user id were configured as an approver.
 *
 * `feedback` holds the outstanding requests (prefix removed, Slack escaping undone, secrets
 * redacted), oldest first; `lastFeedbackTs` is the newest of them — pass it to publishDraft as
 * `addressedFeedbackTs` with the revision that addresses them.
 */
export async function readDecision(
  creds: SlackCredentials,
  post: { channel: string; ts: string },
  approvers: { users: string[]; groups: string[] },
  policy: HttpPolicy,
  log: (message: string) => void = () => {},
): Promise<ReviewDecision> {
  const api = slackReviewClient(creds, policy, log);
  const thread = await readThread(api, post.channel, post.ts);
  const parent = thread.find((m) => m.ts === post.ts);
  if (!parent) throw new SlackReviewError(`draft ${post.ts} not found in ${post.channel}`, null, false, 'message_not_found');

  // In Slack's own timestamps: the first post, its last edit, and what the last revision declared
  // it addressed (metadata feedback_through, written by publishDraft).
  const postedAt = tsMicros(parent.ts) ?? 0;
  const editedAt = tsMicros(parent.edited?.ts) ?? 0;
  const through = tsMicros(parent.metadata?.event_payload?.feedback_through);
  const feedbackCutoff = through !== null ? Math.max(postedAt, through) : Math.max(postedAt, editedAt);
  const replies = thread.filter((m) => m.ts !== post.ts && fromHuman(m)).sort((a, b) => compareTs(a.ts, b.ts));

  const changes = replies.filter((m) => CHANGES_TEXT.test(bare(m.text ?? '')));
  const lastChanges = changes.length ? tsMicros(changes[changes.length - 1]!.ts) ?? 0 : 0;
  const outstanding = changes.filter((m) => (tsMicros(m.ts) ?? 0) > feedbackCutoff);
  const feedback = outstanding.map((m) => redactSecrets(unescapeMrkdwn(bare(m.text ?? '').replace(CHANGES_TEXT, '').trim())));
  const lastFeedbackTs = outstanding.length ? outstanding[outstanding.length - 1]!.ts : null;

  // Fail closed: no configured approver means nobody can approve.
  const users = new Set(approvers.users.filter(Boolean));
  const groups = [...new Set(approvers.groups.filter(Boolean))];
  let members: Set<string> | null = null;
  const isApprover = async (user: string): Promise<boolean> => {
    if (users.has(user)) return true;
    if (groups.length === 0) return false;
    if (!members) {
      members = new Set();
      for (const group of groups) {
        const res = await api.call<SlackResult & { users?: string[] }>('usergroups.users.list', { usergroup: group, include_disabled: false });
        for (const u of res.users ?? []) members.add(u);
      }
    }
    return members.has(user);
  };
  const anyApprover = users.size > 0 || groups.length > 0;

  const pendingOrChanges = (): ReviewDecision =>
    outstanding.length ? { status: 'changes_requested', approverId: null, feedback, lastFeedbackTs } : { status: 'pending', approverId: null, feedback, lastFeedbackTs };
  if (!anyApprover) return pendingOrChanges();

  // 1. an approver's `approve` reply after the first post and after the last `changes:`
  const approvals = replies.filter((m) => APPROVE_TEXT.test(bare(m.text ?? '')) && (tsMicros(m.ts) ?? 0) > postedAt && (tsMicros(m.ts) ?? 0) > lastChanges);
  for (const m of approvals.reverse()) {
    if (await isApprover(m.user!)) return { status: 'approved', approverId: m.user!, feedback, lastFeedbackTs };
  }

  // 2. an approver's ✅ on the draft, when no feedback is outstanding
  if (outstanding.length === 0) {
    const res = await api.call<SlackResult & { message?: SlackMessage }>('reactions.get', { channel: post.channel, timestamp: post.ts, full: true });
    const reactors = (res.message?.reactions ?? []).filter((r) => APPROVE_REACTION.test(r.name ?? '')).flatMap((r) => r.users ?? []);
    for (const user of [...new Set(reactors)]) {
      if (await isApprover(user)) return { status: 'approved', approverId: user, feedback, lastFeedbackTs };
    }
  }
  return pendingOrChanges();
}
