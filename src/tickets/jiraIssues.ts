// Filing drafts as Jira Cloud issues, exactly once per incident and action item, with jira.js v5
// (Version3Client, REST v3; search is the enhanced POST /rest/api/3/search/jql).
//
// Every ticket carries the label `hs-<hash of its marker>` and the marker itself in the
// description. Before writing, `project = X AND labels = "hs-…"` finds what an earlier run did:
// an issue whose description holds the marker is 'existing'; another one with the label is a
// past incident's ticket an earlier run linked ('linked', its comment made sure of). Otherwise an
// open `postmortem` issue of a past incident with a (nearly) equal summary gets a comment and the
// label instead of a duplicate; otherwise the issue is created with the priority and issue type
// named by the target.
//
// Writes are retried like reads, but every retry of a create or comment first looks for the
// marker again (a lost answer may hide a write that happened). Jira's search is eventually
// consistent: an issue created seconds ago may not be found yet by a rerun that quick.
import { createHash } from 'node:crypto';
import { Version3Client } from 'jira.js';
import { classifyStatus, parseRetryAfter, VendorError, withRetries, type Classified } from '../harvest/retry.js';
import type { HttpPolicy } from '../harvest/types.js';
import {
  MAX_TICKETS_PER_INCIDENT,
  POSTMORTEM_LABEL,
  TicketFilingError,
  incidentMarkerPrefix,
  incidentOfMarker,
  linkCommentBody,
  mostSimilar,
  pastTicketFor,
  type FileOptions,
  type FiledTicket,
  type TicketDraft,
  type TicketTarget,
} from './tickets.js';

export interface JiraTicketCredentials {
  host: string;
  email: string;
  apiToken: string;
}

type JiraTarget = Extract<TicketTarget, { system: 'jira' }>;
type Json = Record<string, unknown>;

/** ADF node (Atlassian Document Format) */
export interface AdfNode {
  type: string;
  version?: number;
  content?: AdfNode[];
  text?: string;
  marks?: Array<{ type: string }>;
}

const SOURCE = 'jira';
const PAGE_SIZE = 100;
const MAX_PAGES = 10;
const SUMMARY_MAX = 255;
const LABEL_MAX = 255;
const SEARCH_FIELDS = ['summary', 'description', 'labels', 'status'];

interface JiraIssue {
  id: string;
  key: string;
  summary: string;
  description: string;
  labels: string[];
}

/** `hs-<16 hex>`: one label per incident and action item (Jira labels take no spaces) */
export function jiraMarkerLabel(marker: string): string {
  return `hs-${createHash('sha256').update(marker).digest('hex').slice(0, 16)}`;
}

/** Jira labels cannot hold whitespace; at most 255 characters */
export function jiraLabel(name: string): string {
  return [...name.trim().replace(/\s+/g, '-')].slice(0, LABEL_MAX).join('');
}

export function jiraLabels(draft: TicketDraft): string[] {
  const out = new Set<string>();
  for (const raw of [POSTMORTEM_LABEL, ...draft.labels, jiraMarkerLabel(draft.marker), `type-${draft.type}`]) {
    const l = jiraLabel(raw);
    if (l) out.add(l);
  }
  return [...out];
}

function jqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `**bold**` runs as strong text nodes */
function inline(line: string): AdfNode[] {
  const out: AdfNode[] = [];
  const parts = line.split(/\*\*(.+?)\*\*/g);
  parts.forEach((part, i) => {
    if (!part) return;
    out.push(i % 2 === 1 ? { type: 'text', text: part, marks: [{ type: 'strong' }] } : { type: 'text', text: part });
  });
  return out;
}

/**
 * The Markdown of a ticket body as ADF: blank lines separate paragraphs, lines within one are hard
 * breaks, `**bold**` is strong, and the `<!-- marker -->` line becomes visible text (Jira has no
 * comments), so the description holds the full marker.
 */
export function markdownToAdf(markdown: string): AdfNode {
  const content: AdfNode[] = [];
  for (const block of markdown.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const nodes: AdfNode[] = [];
    lines.forEach((line, i) => {
      if (i > 0) nodes.push({ type: 'hardBreak' });
      const marker = /^<!--\s*(.+?)\s*-->$/.exec(line.trim());
      nodes.push(...(marker ? [{ type: 'text', text: `Hindsight marker: ${marker[1]}` }] : inline(line)));
    });
    content.push({ type: 'paragraph', content: nodes });
  }
  return { type: 'doc', version: 1, content };
}

/** every text node of an ADF document (or a plain string), concatenated */
export function adfText(node: unknown): string {
  if (typeof node === 'string') return node;
  if (!node || typeof node !== 'object') return '';
  const n = node as AdfNode;
  return `${typeof n.text === 'string' ? n.text : ''}${Array.isArray(n.content) ? n.content.map(adfText).join(n.type === 'doc' ? '\n' : '') : ''}`;
}

/** jira.js errors (HttpException with the axios error as `cause`, or a bare AxiosError) -> retry policy */
export function classifyJira(err: unknown, nowMs = Date.now()): Classified {
  const e = err as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { status?: unknown; data?: unknown; headers?: Record<string, unknown> } | null;
    cause?: { response?: { headers?: Record<string, unknown> } } | null;
  } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const status = typeof e?.status === 'number' ? e.status : typeof e?.response?.status === 'number' ? e.response.status : null;
  if (status === null) {
    const network = typeof e?.code === 'string' && /^(E[A-Z]+|ERR_[A-Z_]+)$/.test(e.code);
    return { status: null, retryable: network, retryAfterMs: null, message: network ? `network error: ${message}` : message };
  }
  const headers = e?.cause?.response?.headers ?? e?.response?.headers ?? {};
  const retryAfter = parseRetryAfter(typeof headers['retry-after'] === 'string' ? headers['retry-after'] : null, nowMs);
  const data = (e?.response?.data ?? (e?.response as Json | undefined)) as Json | undefined;
  const body = (data && typeof data === 'object' && 'data' in data ? (data.data as Json) : data) ?? {};
  const details = [
    ...(Array.isArray(body.errorMessages) ? (body.errorMessages as unknown[]).map(String) : []),
    ...(body.errors && typeof body.errors === 'object' ? Object.entries(body.errors as Json).map(([k, v]) => `${k}: ${String(v)}`) : []),
  ];
  return {
    status,
    retryable: classifyStatus(status),
    retryAfterMs: status === 429 || status >= 500 ? retryAfter : null,
    message: `HTTP ${status}: ${(details.length ? details.join('; ') : message).replace(/\s+/g, ' ').slice(0, 300)}`,
  };
}

class JiraApi {
  readonly client: Version3Client;
  readonly host: string;

  constructor(
    private readonly creds: JiraTicketCredentials,
    private readonly policy: HttpPolicy,
    private readonly log: (message: string) => void,
  ) {
    this.host = creds.host.replace(/\/+$/, '');
    this.client = new Version3Client({
      host: this.host,
      authentication: { basic: { email: creds.email, apiToken: creds.apiToken } },
      // axios gives up with the attempt; withRetries decides about the next one
      baseRequestConfig: { timeout: policy.timeoutMs },
    });
  }

  scrub(text: string): string {
    let out = text;
    for (const s of [this.creds.apiToken, Buffer.from(`${this.creds.email}:${this.creds.apiToken}`).toString('base64')]) {
      if (s.length >= 4) out = out.split(s).join('[REDACTED]');
    }
    return out;
  }

  browse(key: string): string {
    return `${this.host}/browse/${encodeURIComponent(key)}`;
  }

  call<T>(what: string, op: () => Promise<T>, recheck?: () => Promise<T | null>): Promise<T> {
    let attempt = 0;
    return withRetries(
      async () => {
        if (attempt++ > 0 && recheck) {
          const found = await recheck();
          if (found !== null) return found;
        }
        return op();
      },
      {
        source: SOURCE,
        policy: this.policy,
        classify: (err) => {
          const c = classifyJira(err);
          return { ...c, message: this.scrub(c.message) };
        },
        onRetry: (n, delayMs, why) => this.log(`jira: ${what}: retry ${n} in ${delayMs} ms (${this.scrub(why)})`),
      },
    );
  }

  /** every page of a JQL search (nextPageToken), without retries of its own */
  async searchOnce(jql: string): Promise<JiraIssue[]> {
    const out: JiraIssue[] = [];
    let nextPageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql, fields: SEARCH_FIELDS, maxResults: PAGE_SIZE, nextPageToken });
      for (const issue of res.issues ?? []) {
        const f = (issue.fields ?? {}) as Json;
        out.push({
          id: String(issue.id ?? ''),
          key: String(issue.key ?? ''),
          summary: typeof f.summary === 'string' ? f.summary : '',
          description: adfText(f.description),
          labels: Array.isArray(f.labels) ? (f.labels as unknown[]).map(String) : [],
        });
      }
      nextPageToken = res.nextPageToken ?? undefined;
      if (!nextPageToken) break;
    }
    return out;
  }

  search(jql: string, what: string): Promise<JiraIssue[]> {
    return this.call(what, () => this.searchOnce(jql));
  }

  /** every comment's text, without retries of its own */
  async commentsOnce(key: string): Promise<string[]> {
    const out: string[] = [];
    let startAt = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.client.issueComments.getComments({ issueIdOrKey: key, startAt, maxResults: PAGE_SIZE });
      const comments = res.comments ?? [];
      out.push(...comments.map((c) => adfText(c.body)));
      startAt += comments.length;
      if (comments.length === 0 || startAt >= (res.total ?? 0)) break;
    }
    return out;
  }
}

/**
 * Files the drafts (at most 5) in `target.project`: 'existing' when an earlier run filed or
 * linked it, 'linked' when a similar open ticket of a past incident got a comment instead, else
 * 'created' (priority by name from `target.priorities`, issue type `target.issueType`). Throws
 * TicketFilingError (with what was filed so far) when Jira fails after retries.
 */
export async function fileJiraIssues(
  creds: JiraTicketCredentials,
  target: JiraTarget,
  drafts: TicketDraft[],
  opts: FileOptions,
): Promise<FiledTicket[]> {
  const api = new JiraApi(creds, opts.policy, opts.log ?? (() => {}));
  const batch = drafts.slice(0, MAX_TICKETS_PER_INCIDENT);
  const filed: FiledTicket[] = [];
  if (batch.length === 0) return filed;
  const project = jqlString(target.project);

  try {
    let openPostmortems: JiraIssue[] | null = null;
    const postmortems = async () =>
      (openPostmortems ??= await api.search(`project = ${project} AND labels = ${jqlString(POSTMORTEM_LABEL)} AND statusCategory != Done ORDER BY created ASC`, 'open postmortem issues'));

    /** a comment with the marker on `key`, unless one is there already */
    const ensureComment = async (key: string, draft: TicketDraft) => {
      const has = async () => (await api.commentsOnce(key)).some((c) => c.includes(draft.marker));
      if (await api.call(`comments of ${key}`, has)) return;
      await api.call(
        `comment on ${key}`,
        async () => {
          await api.client.issueComments.addComment({ issueIdOrKey: key, comment: markdownToAdf(linkCommentBody(draft, opts.incident)) as never });
          return true;
        },
        async () => ((await has()) ? true : null),
      );
    };

    for (const draft of batch) {
      const label = jiraMarkerLabel(draft.marker);
      const byLabel = `project = ${project} AND labels = ${jqlString(label)}`;
      const tagged = await api.search(byLabel, `issues labelled ${label}`);

      // 1. filed by an earlier run
      const existing = tagged.find((i) => i.description.includes(draft.marker));
      if (existing) {
        filed.push({ marker: draft.marker, key: existing.key, url: api.browse(existing.key), status: 'existing' });
        continue;
      }
      // 2. linked by an earlier run (the label goes on after the comment, so the comment is there;
      //    made sure of anyway)
      const linked = tagged[0];
      if (linked) {
        await ensureComment(linked.key, draft);
        filed.push({ marker: draft.marker, key: linked.key, url: api.browse(linked.key), status: 'linked' });
        continue;
      }

      // 3. a similar open issue of a past incident: comment and label instead of a duplicate
      const prefix = incidentMarkerPrefix(incidentOfMarker(draft.marker));
      const candidates = (await postmortems()).filter((i) => !i.description.includes(prefix)).map((i) => ({ ...i, title: i.summary, order: Number(i.id) || Number.MAX_SAFE_INTEGER }));
      let similar: { key: string; labels: string[] } | null = mostSimilar(draft.title, candidates);
      // 3b. the open ticket of an action item a past incident like this one left ("Seen before")
      const past = similar ? null : pastTicketFor(draft.title, (opts.pastTickets ?? []).filter((t) => t.key.startsWith(`${target.project}-`)));
      if (past) {
        const issue = await api.call(`issue ${past.key}`, () => api.client.issues.getIssue({ issueIdOrKey: past.key, fields: ['status', 'labels', 'description'] })).catch(() => null);
        const f = (issue?.fields ?? {}) as Json;
        const done = ((f.status as Json | undefined)?.statusCategory as Json | undefined)?.key === 'done';
        if (issue?.key && !done && !adfText(f.description).includes(prefix)) similar = { key: String(issue.key), labels: Array.isArray(f.labels) ? (f.labels as unknown[]).map(String) : [] };
      }
      if (similar) {
        await ensureComment(similar.key, draft);
        if (!similar.labels.includes(label)) {
          await api.call(`label ${similar.key}`, () => api.client.issues.editIssue({ issueIdOrKey: similar.key, update: { labels: [{ add: label }] }, notifyUsers: false }));
        }
        filed.push({ marker: draft.marker, key: similar.key, url: api.browse(similar.key), status: 'linked' });
        continue;
      }

      // 4. create; a retry first looks for an issue the lost answer may have created
      const priority = target.priorities[draft.priority];
      const created = await api.call(
        `create issue "${draft.title.slice(0, 60)}"`,
        async () => {
          const res = await api.client.issues.createIssue({
            fields: {
              project: { key: target.project },
              summary: [...draft.title].slice(0, SUMMARY_MAX).join(''),
              description: markdownToAdf(draft.body) as never,
              labels: jiraLabels(draft),
              issuetype: { name: target.issueType },
              ...(priority ? { priority: { name: priority } } : {}),
            },
          });
          return { key: String(res.key) };
        },
        async () => {
          const found = (await api.searchOnce(byLabel)).find((i) => i.description.includes(draft.marker));
          return found ? { key: found.key } : null;
        },
      );
      if (!created.key) throw new VendorError(SOURCE, 'create issue: no key in the answer', null, false);
      filed.push({ marker: draft.marker, key: created.key, url: api.browse(created.key), status: 'created' });
    }
    return filed;
  } catch (err) {
    if (err instanceof TicketFilingError) throw err;
    const message = api.scrub(err instanceof Error ? err.message : String(err));
    throw new TicketFilingError(`jira: filing in ${target.project} stopped after ${filed.length} of ${batch.length}: ${message}`, filed, { cause: err });
  }
}
