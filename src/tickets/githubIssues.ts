// Filing drafts as GitHub issues, exactly once per incident and action item, with @octokit/rest.
//
// Before anything is written, the repository's issues labelled `hs:<incident>` (every state) are
// listed: a body holding the draft's marker is the ticket an earlier run filed ('existing'); an
// older issue carrying the label and a comment with the marker is one an earlier run linked
// ('linked'). Otherwise an OPEN `postmortem` issue of a past incident whose title is (nearly) the
// draft's (Jaccard of words >= 0.8) gets a comment linking this incident instead of a duplicate,
// and the incident label so the next run finds it at once. Otherwise the issue is created.
//
// Writes are retried like reads (withRetries: 429 and 5xx with backoff), but a write whose answer
// was lost may have happened: every retry of a create or comment first looks for the marker again.
import { Octokit } from '@octokit/rest';
import { classifyGithub, nextPageUrl } from '../harvest/sources/github.js';
import { VendorError, withRetries } from '../harvest/retry.js';
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

export interface GithubTicketCredentials {
  token: string;
  apiUrl: string;
}

type GithubTarget = Extract<TicketTarget, { system: 'github' }>;
type Json = Record<string, unknown>;

const SOURCE = 'github';
/** GitHub rejects longer label names */
export const GITHUB_LABEL_MAX = 50;
const PER_PAGE = 100;
/** an incident's own issues fit on one page; the open postmortem backlog is read up to this many pages */
const MAX_PAGES = 10;

const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface Issue {
  number: number;
  title: string;
  body: string;
  state: string;
  labels: string[];
  url: string;
}

interface Page {
  data: unknown;
  headers: Record<string, unknown>;
}

/** at most 50 characters, whole code points */
function labelName(name: string): string {
  const chars = [...name.trim()];
  return chars.length <= GITHUB_LABEL_MAX ? chars.join('') : chars.slice(0, GITHUB_LABEL_MAX).join('');
}

/** `hs:<incident id>`, at most 50 characters (no commas: the labels filter is comma-separated) */
export function githubIncidentLabel(incidentId: string): string {
  return labelName(`hs:${incidentId.replace(/,/g, '_')}`);
}

/** The draft's labels plus priority, type and incident labels; trimmed, deduplicated case-insensitively. */
export function githubLabels(draft: TicketDraft): string[] {
  const out = new Map<string, string>();
  for (const raw of [...draft.labels, `priority:${draft.priority}`, `type:${draft.type}`, githubIncidentLabel(incidentOfMarker(draft.marker))]) {
    const name = labelName(raw);
    if (name && !out.has(name.toLowerCase())) out.set(name.toLowerCase(), name);
  }
  return [...out.values()];
}

function toIssue(raw: Json): Issue | null {
  if (raw.pull_request) return null; // the issues API lists pull requests too
  const labels = Array.isArray(raw.labels) ? raw.labels.map((l) => (typeof l === 'string' ? l : String((l as Json)?.name ?? ''))) : [];
  return {
    number: Number(raw.number),
    title: String(raw.title ?? ''),
    body: typeof raw.body === 'string' ? raw.body : '',
    state: String(raw.state ?? ''),
    labels,
    url: String(raw.html_url ?? ''),
  };
}

class GithubIssuesApi {
  private readonly octokit: Octokit;

  constructor(
    private readonly creds: GithubTicketCredentials,
    private readonly policy: HttpPolicy,
    private readonly log: (message: string) => void,
  ) {
    this.octokit = new Octokit({
      auth: creds.token,
      baseUrl: creds.apiUrl,
      userAgent: 'hindsight-tickets',
      log: silentLog,
      request: { log: silentLog },
    });
  }

  scrub(text: string): string {
    const t = this.creds.token;
    return t.length >= 4 ? text.split(t).join('[REDACTED]') : text;
  }

  async raw(route: string, params: Json, signal?: AbortSignal): Promise<Page> {
    const res = await this.octokit.request(route, { ...params, request: { signal } });
    return { data: res.data as unknown, headers: res.headers as Record<string, unknown> };
  }

  /**
   * One call with the retry policy. `recheck` runs before every retry (not the first attempt):
   * when it finds what the call was to produce, a lost answer already did the work.
   */
  call<T>(what: string, op: (signal: AbortSignal) => Promise<T>, recheck?: (signal: AbortSignal) => Promise<T | null>): Promise<T> {
    let attempt = 0;
    return withRetries(
      async (signal) => {
        if (attempt++ > 0 && recheck) {
          const found = await recheck(signal);
          if (found !== null) return found;
        }
        return op(signal);
      },
      {
        source: SOURCE,
        policy: this.policy,
        classify: (err) => {
          const c = classifyGithub(err);
          return { ...c, message: this.scrub(c.message) };
        },
        onRetry: (n, delayMs, why) => this.log(`github: ${what}: retry ${n} in ${delayMs} ms (${this.scrub(why)})`),
      },
    );
  }

  /** every page of a listing (Link rel="next", same origin only), each page with retries unless `signal` is given */
  async list(route: string, params: Json, what: string, signal?: AbortSignal): Promise<Json[]> {
    const get = (r: string, p: Json) => (signal ? this.raw(r, p, signal) : this.call(what, (s) => this.raw(r, p, s)));
    const items: Json[] = [];
    let page = await get(route, { ...params, per_page: PER_PAGE });
    for (let n = 1; ; n++) {
      if (Array.isArray(page.data)) items.push(...(page.data as Json[]));
      const next = nextPageUrl(page.headers.link, this.creds.apiUrl);
      if (!next || n >= MAX_PAGES) return items;
      page = await get(`GET ${next}`, {});
    }
  }
}

/**
 * Files the drafts (at most 5) in `target.repo`: 'existing' when an earlier run filed or linked
 * it, 'linked' when a similar open ticket of a past incident got a comment instead, else
 * 'created'. Throws TicketFilingError (with what was filed so far) when GitHub fails after
 * retries; running again completes the set without duplicates.
 */
export async function fileGithubIssues(
  creds: GithubTicketCredentials,
  target: GithubTarget,
  drafts: TicketDraft[],
  opts: FileOptions,
): Promise<FiledTicket[]> {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(target.repo);
  if (!m) throw new TicketFilingError(`github: "${target.repo}" is not owner/name`, []);
  const [owner, repo] = [m[1]!, m[2]!];
  const api = new GithubIssuesApi(creds, opts.policy, opts.log ?? (() => {}));
  const batch = drafts.slice(0, MAX_TICKETS_PER_INCIDENT);
  const filed: FiledTicket[] = [];
  if (batch.length === 0) return filed;
  const key = (n: number) => `${owner}/${repo}#${n}`;
  const base = { owner, repo };

  try {
    // Labels set on a new issue are silently dropped without push access, and the incident label
    // is how a rerun finds its issues: refuse rather than file what could later be duplicated.
    const repoInfo = (await api.call(`repos/${owner}/${repo}`, (s) => api.raw('GET /repos/{owner}/{repo}', base, s))).data as Json;
    const perms = repoInfo.permissions as Json | undefined;
    if (perms && perms.push === false && perms.triage !== true && perms.maintain !== true && perms.admin !== true) {
      throw new TicketFilingError(`github: the token cannot label issues in ${owner}/${repo} (needs triage or write access); nothing filed`, []);
    }

    // the incident's own issues, every state: one listing per incident label in the batch
    const byLabel = new Map<string, Issue[]>();
    const ownIssues = async (label: string, signal?: AbortSignal): Promise<Issue[]> => {
      const cached = signal ? undefined : byLabel.get(label);
      if (cached) return cached;
      const raw = await api.list('GET /repos/{owner}/{repo}/issues', { ...base, state: 'all', labels: label }, `issues labelled ${label}`, signal);
      const issues = raw.map(toIssue).filter((i): i is Issue => i !== null);
      if (!signal) byLabel.set(label, issues);
      return issues;
    };

    // comments per issue (cached), for markers of linked tickets
    const commentCache = new Map<number, string[]>();
    const comments = async (n: number, signal?: AbortSignal): Promise<string[]> => {
      const cached = signal ? undefined : commentCache.get(n);
      if (cached) return cached;
      const raw = await api.list('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...base, issue_number: n }, `comments of #${n}`, signal);
      const bodies = raw.map((c) => (typeof c.body === 'string' ? c.body : ''));
      if (!signal) commentCache.set(n, bodies);
      return bodies;
    };

    // open postmortem issues, read once when first needed
    let openPostmortems: Issue[] | null = null;
    const postmortems = async (): Promise<Issue[]> => {
      if (!openPostmortems) {
        const raw = await api.list('GET /repos/{owner}/{repo}/issues', { ...base, state: 'open', labels: POSTMORTEM_LABEL }, 'open postmortem issues');
        openPostmortems = raw.map(toIssue).filter((i): i is Issue => i !== null);
      }
      return openPostmortems;
    };

    const addIncidentLabel = async (issue: Issue, label: string) => {
      if (issue.labels.some((l) => l.toLowerCase() === label.toLowerCase())) return;
      await api.call(`label #${issue.number}`, (s) => api.raw('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...base, issue_number: issue.number, labels: [label] }, s));
      issue.labels.push(label);
    };

    for (const draft of batch) {
      const incidentId = incidentOfMarker(draft.marker);
      const label = githubIncidentLabel(incidentId);
      const prefix = incidentMarkerPrefix(incidentId);
      const own = await ownIssues(label);

      // 1. filed by an earlier run
      const existing = own.find((i) => i.body.includes(draft.marker));
      if (existing) {
        filed.push({ marker: draft.marker, key: key(existing.number), url: existing.url, status: 'existing' });
        continue;
      }

      // 2. linked by an earlier run: a past incident's issue that carries this incident's label
      let linked: Issue | null = null;
      for (const issue of own) {
        if (issue.body.includes(prefix)) continue; // one of this incident's own issues
        if ((await comments(issue.number)).some((c) => c.includes(draft.marker))) {
          linked = issue;
          break;
        }
      }
      if (linked) {
        filed.push({ marker: draft.marker, key: key(linked.number), url: linked.url, status: 'linked' });
        continue;
      }

      // 3. a similar open issue of a past incident: comment there instead of duplicating it
      const candidates = (await postmortems())
        .filter((i) => !i.body.includes(prefix))
        .map((issue) => ({ title: issue.title, order: issue.number, issue }));
      let similar = mostSimilar(draft.title, candidates);
      // 3b. the open ticket of an action item a past incident like this one left ("Seen before")
      const past = similar ? null : pastTicketFor(draft.title, (opts.pastTickets ?? []).filter((t) => t.key.toLowerCase().startsWith(`${owner}/${repo}#`.toLowerCase())));
      if (past) {
        const number = Number(past.key.split('#')[1]);
        const found = await api
          .call(`issue #${number}`, (s) => api.raw('GET /repos/{owner}/{repo}/issues/{issue_number}', { ...base, issue_number: number }, s))
          .then((page) => toIssue(page.data as Json), () => null);
        if (found && found.state === 'open' && !found.body.includes(prefix)) similar = { title: found.title, order: found.number, issue: found };
      }
      if (similar) {
        const issue = similar.issue;
        const has = async (signal?: AbortSignal) => (await comments(issue.number, signal)).some((c) => c.includes(draft.marker));
        if (!(await has())) {
          await api.call(
            `comment on #${issue.number}`,
            (s) => api.raw('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...base, issue_number: issue.number, body: linkCommentBody(draft, opts.incident) }, s),
            async (s) => ((await has(s)) ? ({ data: null, headers: {} } as Page) : null),
          );
          commentCache.delete(issue.number);
        }
        await addIncidentLabel(issue, label);
        if (!own.includes(issue)) own.push(issue);
        filed.push({ marker: draft.marker, key: key(issue.number), url: issue.url, status: 'linked' });
        continue;
      }

      // 4. create; a retry first looks for an issue the lost answer may have created
      const labels = githubLabels(draft);
      const created = await api.call(
        `create issue "${draft.title.slice(0, 60)}"`,
        async (s) => toIssue((await api.raw('POST /repos/{owner}/{repo}/issues', { ...base, title: draft.title, body: draft.body, labels }, s)).data as Json),
        async (s) => (await ownIssues(label, s)).find((i) => i.body.includes(draft.marker)) ?? null,
      );
      if (!created) throw new VendorError(SOURCE, 'create issue: unexpected answer', null, false);
      own.push(created);
      filed.push({ marker: draft.marker, key: key(created.number), url: created.url, status: 'created' });
      if (!created.labels.some((l) => l.toLowerCase() === label.toLowerCase())) {
        throw new TicketFilingError(`github: ${key(created.number)} was created without the label "${label}" (the token may lack triage or write access); stopping so a rerun cannot duplicate tickets`, filed);
      }
    }
    return filed;
  } catch (err) {
    if (err instanceof TicketFilingError) throw err;
    const message = api.scrub(err instanceof Error ? err.message : String(err));
    throw new TicketFilingError(`github: filing in ${owner}/${repo} stopped after ${filed.length} of ${batch.length}: ${message}`, filed, { cause: err });
  }
}
