// GitHub source: for every configured repository, the deployments in the deploy window (each with
// its statuses), the commits each deployment shipped (compare with the previous deployment of the
// same environment) and those commits with their files and patches. Read with the official
// @octokit/rest client; every call goes through our retry policy (Octokit itself does not retry).
// Teams without the Deployments API can name a deploy workflow: its completed runs stand in for
// deployments.
import { Octokit } from '@octokit/rest';
import type { VendorCredentials } from '../config.js';
import type { DoctorCheck } from '../doctorTypes.js';
import { classifyStatus, parseRetryAfter, VendorError, withRetries, type Classified } from '../retry.js';
import type { HarvestContext, HarvestErrorEntry, HttpPolicy, SourceOutcome, TruncationEntry } from '../types.js';

type GithubCredentials = NonNullable<VendorCredentials['github']>;
type Json = Record<string, unknown>;

export interface GithubHarvestOptions {
  repos: string[];
  /** only deployments to this environment (also the environment given to workflow runs) */
  environment?: string | null;
  /** workflow file name or id whose completed runs stand in for deployments when a repository has none */
  deployWorkflow?: string | null;
}

const SOURCE = 'github';
const PER_PAGE = 100;
/** safety stop for any listing (100 per page) */
const MAX_PAGES = 30;
/** requests in flight at once within one repository (GitHub asks for restraint, not strict serial) */
const CONCURRENCY = 4;
/** a rate limit that resets later than this is reported instead of slept through */
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
/** GitHub: a secondary rate limit without retry-after or reset headers means "wait at least a minute" */
const SECONDARY_LIMIT_WAIT_MS = 60_000;
/** deployments whose latest status is one of these never served traffic */
const FAILED_STATES = new Set(['failure', 'error']);

const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

// ---------------------------------------------------------------------------------------------
// Errors and retries

function header(headers: Record<string, unknown> | undefined, name: string): string | null {
  const v = headers?.[name];
  return v === undefined || v === null ? null : String(v);
}

function apiMessage(data: unknown, fallback: string): string {
  let text = fallback;
  if (data && typeof data === 'object' && typeof (data as Json).message === 'string') text = (data as Json).message as string;
  else if (typeof data === 'string' && data.trim() !== '') text = data.replace(/<[^>]*>/g, ' ');
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * Octokit's RequestError -> status / retryability / wait. 429, and 403 with
 * `x-ratelimit-remaining: 0` or `retry-after` (primary and secondary rate limits), wait for
 * `retry-after` or `x-ratelimit-reset`; 5xx and network failures are retried with backoff; other
 * 4xx fail at once. A rate limit that resets more than a minute away is not slept through: it is
 * reported (not retryable now, but `retryAfterMs` set so the harvest error says "retry later").
 */
export function classifyGithub(err: unknown, nowMs = Date.now()): Classified {
  const e = err as { name?: unknown; status?: unknown; message?: unknown; response?: { status?: number; headers?: Record<string, unknown>; data?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (!e?.response) {
    // Octokit reports a request that got no HTTP answer (refused, reset, DNS, aborted) as status 500.
    if (e?.name === 'HttpError' || e?.name === 'AbortError') return { status: null, retryable: true, retryAfterMs: null, message: `network error: ${message}` };
    return { status: null, retryable: false, retryAfterMs: null, message };
  }
  const status = typeof e.response.status === 'number' ? e.response.status : typeof e.status === 'number' ? e.status : null;
  const headers = e.response.headers;
  const text = apiMessage(e.response.data, message);
  const exhausted = header(headers, 'x-ratelimit-remaining') === '0';
  const retryAfter = parseRetryAfter(header(headers, 'retry-after'), nowMs);
  const rateLimited = status === 429 || (status === 403 && (exhausted || retryAfter !== null || /rate limit/i.test(text)));
  if (rateLimited) {
    let wait = retryAfter;
    if (wait === null && exhausted) {
      const reset = Number(header(headers, 'x-ratelimit-reset'));
      // reset is whole epoch seconds: wait until then, plus a little for clock skew
      if (Number.isFinite(reset) && reset > 0) wait = Math.max(1000, reset * 1000 - nowMs + 500);
    }
    if (wait === null) wait = SECONDARY_LIMIT_WAIT_MS;
    const later = wait > MAX_RATE_LIMIT_WAIT_MS;
    return {
      status,
      retryable: !later,
      retryAfterMs: wait,
      message: `HTTP ${status} rate limited: ${text}${later ? ` (resets at ${new Date(nowMs + wait).toISOString()})` : ''}`,
    };
  }
  return {
    status,
    retryable: classifyStatus(status),
    retryAfterMs: status !== null && status >= 500 ? retryAfter : null,
    message: `HTTP ${status ?? '?'}: ${text}`,
  };
}

interface Page {
  data: unknown;
  headers: Record<string, unknown>;
}

/** The next page from a `Link` header, only if it stays on the API's origin (the token goes with it). */
export function nextPageUrl(link: unknown, apiUrl: string): string | null {
  if (typeof link !== 'string') return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (!m) continue;
    try {
      return new URL(m[1]!).origin === new URL(apiUrl).origin ? m[1]! : null;
    } catch {
      return null;
    }
  }
  return null;
}

class GithubApi {
  private readonly octokit: Octokit;

  constructor(
    private readonly creds: GithubCredentials,
    private readonly policy: HttpPolicy,
    private readonly log: (message: string) => void,
  ) {
    this.octokit = new Octokit({
      auth: creds.token,
      baseUrl: creds.apiUrl,
      userAgent: 'hindsight-harvest',
      log: silentLog,
      // `log` here silences @octokit/request's own deprecation warnings; the per-attempt timeout
      // is our withRetries (it aborts this request's signal), not an Octokit option.
      request: { log: silentLog },
    });
  }

  /** token text never leaves this module, whatever a vendor message echoes back */
  scrub(text: string): string {
    const t = this.creds.token;
    return t.length >= 4 ? text.split(t).join('[REDACTED]') : text;
  }

  get(route: string, params: Json): Promise<Page> {
    return withRetries(
      async (signal) => {
        const res = await this.octokit.request(route, { ...params, request: { signal } });
        return { data: res.data as unknown, headers: res.headers as Record<string, unknown> };
      },
      {
        source: SOURCE,
        policy: this.policy,
        classify: (err) => {
          const c = classifyGithub(err);
          return { ...c, message: this.scrub(c.message) };
        },
        onRetry: (attempt, delayMs, why) => this.log(`github: ${route.replace(/^GET /, '')}: retry ${attempt} in ${delayMs} ms (${this.scrub(why)})`),
      },
    );
  }

  /** first page by route, then `Link: rel="next"` until done, `stop` says so, or maxPages */
  async pages(route: string, params: Json, opts: { maxPages?: number; stop?: (page: Page) => boolean } = {}): Promise<{ pages: Page[]; complete: boolean }> {
    const maxPages = opts.maxPages ?? MAX_PAGES;
    const pages: Page[] = [];
    let page = await this.get(route, params);
    for (;;) {
      pages.push(page);
      if (opts.stop?.(page)) return { pages, complete: true };
      const next = nextPageUrl(page.headers.link, this.creds.apiUrl);
      if (!next) return { pages, complete: true };
      if (pages.length >= maxPages) return { pages, complete: false };
      page = await this.get(`GET ${next}`, {});
    }
  }
}

function errorEntry(what: string, err: unknown, scrub: (s: string) => string): HarvestErrorEntry {
  if (err instanceof VendorError) {
    // a rate limit that resets later is not retried now, but the harvest is worth retrying later
    return { source: SOURCE, message: scrub(`${what}: ${err.message}`), retryable: err.retryable || err.retryAfterMs !== null };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { source: SOURCE, message: scrub(`${what}: ${message}`), retryable: false };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Harvest

const timeOf = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : NaN);

/** newest first, as the API lists them; equal times by id, higher first */
function newestFirst(a: Json, b: Json): number {
  const d = (timeOf(b.created_at) || 0) - (timeOf(a.created_at) || 0);
  return d !== 0 ? d : Number(b.id ?? 0) - Number(a.id ?? 0);
}

/** `patch` cut at `cap` characters (never inside a surrogate pair) with a marker line */
export function truncatePatch(patch: string, cap: number): string {
  if (patch.length <= cap) return patch;
  let end = cap;
  const code = patch.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${patch.slice(0, end)}\n… [patch truncated by hindsight: ${patch.length - end} more characters]`;
}

function workflowRunToDeployment(run: Json, environment: string): Json {
  const actor = run.actor && typeof run.actor === 'object' ? (run.actor as Json) : null;
  return {
    id: run.id,
    sha: run.head_sha,
    ref: run.head_branch,
    environment,
    created_at: run.run_started_at ?? run.created_at,
    description: run.display_title,
    creator: actor ? { login: actor.login, type: actor.type } : null,
    statuses: [{ state: run.conclusion === 'success' ? 'success' : 'failure', created_at: run.updated_at, description: `workflow run ${String(run.conclusion)}` }],
    source: 'actions',
  };
}

interface RepoResult {
  repo: Json;
  errors: HarvestErrorEntry[];
  truncated: TruncationEntry[];
}

async function harvestRepo(api: GithubApi, ctx: HarvestContext, opts: GithubHarvestOptions, owner: string, name: string): Promise<RepoResult> {
  const full = `${owner}/${name}`;
  const errors: HarvestErrorEntry[] = [];
  const truncated: TruncationEntry[] = [];
  const fail = (what: string, err: unknown) => errors.push(errorEntry(`${full}: ${what}`, err, (s) => api.scrub(s)));
  const { fromMs, toMs } = ctx.deployWindow;
  const inWindow = (d: Json) => {
    const t = timeOf(d.created_at);
    return Number.isFinite(t) && t >= fromMs && t <= toMs;
  };
  const environment = opts.environment ?? null;

  // 1. Deployments, newest first, until the list reaches past the window start. Failing here
  //    fails the repository.
  const listed = await api.pages(
    'GET /repos/{owner}/{repo}/deployments',
    { owner, repo: name, per_page: PER_PAGE, ...(environment ? { environment } : {}) },
    { stop: (p) => Array.isArray(p.data) && p.data.some((d) => timeOf((d as Json).created_at) < fromMs) },
  );
  let all: Json[] = listed.pages.flatMap((p) => (Array.isArray(p.data) ? (p.data as Json[]) : []));
  if (environment) all = all.filter((d) => d.environment === environment);
  all.sort(newestFirst);
  let listComplete = listed.complete;
  let fromActions = false;

  // 2. No deployments in the window: the deploy workflow's completed runs stand in for them.
  if (!all.some(inWindow) && opts.deployWorkflow) {
    const env = environment ?? 'production';
    const route = 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs';
    const base = { owner, repo: name, workflow_id: opts.deployWorkflow };
    const runsOf = (p: Page) => {
      const runs = (p.data as Json | null)?.workflow_runs;
      return Array.isArray(runs) ? (runs as Json[]) : [];
    };
    try {
      const runs = await api.pages(route, { ...base, status: 'completed', created: `>=${new Date(fromMs).toISOString()}`, per_page: PER_PAGE });
      const mapped = runs.pages.flatMap(runsOf).map((r) => workflowRunToDeployment(r, env));
      // the last successful run before the window, so the oldest run in it has something to compare with
      try {
        const before = await api.get(route, { ...base, status: 'success', created: `<${new Date(fromMs).toISOString()}`, per_page: 1 });
        mapped.push(...runsOf(before).slice(0, 1).map((r) => workflowRunToDeployment(r, env)));
      } catch (err) {
        fail(`workflow ${opts.deployWorkflow}: run before the window`, err);
      }
      all = mapped.sort(newestFirst);
      listComplete = runs.complete;
      fromActions = true;
      if (all.some(inWindow)) ctx.log(`github: ${full}: no deployments in the window, using runs of workflow ${opts.deployWorkflow}`);
    } catch (err) {
      fail(`workflow ${opts.deployWorkflow} runs`, err);
    }
  }

  const windowed = all.filter(inWindow);
  const cap = ctx.caps.deploymentsPerRepo;
  const kept = windowed.slice(0, cap);
  if (windowed.length > cap) {
    truncated.push({ source: SOURCE, what: `deployments of ${full}`, kept: kept.length, total: listComplete ? windowed.length : null });
  }

  // 3. Statuses (newest first, as returned), fetched for kept deployments and, lazily, for the
  //    deployments they are compared with.
  const statusCache = new Map<string, Promise<Json[] | null>>();
  const statusesOf = (d: Json): Promise<Json[] | null> => {
    if (fromActions) return Promise.resolve((d.statuses as Json[]) ?? []);
    const key = String(d.id);
    let p = statusCache.get(key);
    if (!p) {
      p = api
        .pages('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', { owner, repo: name, deployment_id: d.id, per_page: PER_PAGE }, { maxPages: 3 })
        .then((r) => r.pages.flatMap((pg) => (Array.isArray(pg.data) ? (pg.data as Json[]) : [])))
        .catch((err: unknown) => {
          fail(`statuses of deployment ${key}`, err);
          return null;
        });
      statusCache.set(key, p);
    }
    return p;
  };
  const latestState = async (d: Json): Promise<string | null> => {
    const statuses = await statusesOf(d);
    if (!statuses?.length) return null;
    const latest = statuses.slice().sort((a, b) => (timeOf(b.created_at) || 0) - (timeOf(a.created_at) || 0) || Number(b.id ?? 0) - Number(a.id ?? 0))[0]!;
    return typeof latest.state === 'string' ? latest.state.toLowerCase() : null;
  };
  const deployments = await mapLimit(kept, CONCURRENCY, async (d) => (fromActions ? d : { ...d, statuses: (await statusesOf(d)) ?? [] }));

  // 4. What each deployment shipped: compare with the previous deployment of the same environment
  //    that did not fail (a failed rollout shipped nothing, so its commits go out with the next
  //    one). A redeploy of a sha that an earlier deployment already shipped (rollback, retry)
  //    ships nothing new.
  const perDeployCap = ctx.caps.commitsPerDeployment;
  const shippedBy = await mapLimit(kept, CONCURRENCY, async (d): Promise<string[] | null> => {
    const sha = typeof d.sha === 'string' ? d.sha : null;
    if (!sha) return null;
    const idx = all.indexOf(d);
    const older = all.slice(idx + 1).filter((o) => o.environment === d.environment && typeof o.sha === 'string');
    let prev: Json | null = null;
    for (const o of older) {
      if (FAILED_STATES.has((await latestState(o)) ?? '')) continue;
      prev = o;
      break;
    }
    if (!prev) return [sha];
    if (prev.sha === sha) return [];
    try {
      return await shippedBetween(prev.sha as string, sha, String(d.id));
    } catch (err) {
      fail(`compare ${String(prev.sha).slice(0, 7)}...${sha.slice(0, 7)} (deployment ${String(d.id)})`, err);
      return null;
    }
  });

  async function shippedBetween(base: string, head: string, deploymentId: string): Promise<string[]> {
    const route = 'GET /repos/{owner}/{repo}/compare/{basehead}';
    const params = { owner, repo: name, basehead: `${base}...${head}`, per_page: PER_PAGE };
    const first = await api.get(route, { ...params, page: 1 });
    const body = (first.data ?? {}) as Json;
    if (body.status === 'behind' || body.status === 'identical') return [];
    const shasOf = (p: Page) => {
      const commits = (p.data as Json | null)?.commits;
      return Array.isArray(commits) ? (commits as Json[]).map((c) => c.sha).filter((s): s is string => typeof s === 'string') : [];
    };
    let shas = shasOf(first);
    const total = typeof body.total_commits === 'number' ? body.total_commits : shas.length;
    // Commits come oldest first; past one page, read from the last page backwards until the
    // newest `cap` are in hand (the deployed sha and the commits nearest to it matter most).
    // The page size is what the server actually served, which may be less than asked.
    if (total > shas.length && shas.length > 0) {
      const lastPage = Math.ceil(total / shas.length);
      const tail: string[][] = [];
      let have = 0;
      for (let page = lastPage; page > 1 && have < perDeployCap; page--) {
        const p = shasOf(await api.get(route, { ...params, page }));
        tail.unshift(p);
        have += p.length;
      }
      if (have < perDeployCap) tail.unshift(shas);
      shas = tail.flat();
    }
    if (shas.length > perDeployCap || total > shas.length) {
      truncated.push({ source: SOURCE, what: `commits of deployment ${deploymentId} (${full})`, kept: Math.min(perDeployCap, shas.length), total });
      shas = shas.slice(-perDeployCap);
    }
    return shas;
  }

  const deploymentCommits: Record<string, string[]> = {};
  kept.forEach((d, i) => {
    const shipped = shippedBy[i];
    if (shipped) deploymentCommits[String(d.id)] = shipped;
  });

  // 5. Every distinct commit, oldest deployment first, with files and (capped) patches. A
  //    deployment whose comparison failed is taken to ship its own sha, so that one is read.
  const wanted: string[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const d = kept[i]!;
    const shas = shippedBy[i] ?? (typeof d.sha === 'string' ? [d.sha] : []);
    for (const s of shas) if (!wanted.includes(s)) wanted.push(s);
  }
  const patchCap = ctx.caps.patchChars;
  let cutFiles = 0;
  let cutTotal = 0;
  const fetched = await mapLimit(wanted, CONCURRENCY, async (sha) => {
    try {
      const res = await api.get('GET /repos/{owner}/{repo}/commits/{ref}', { owner, repo: name, ref: sha });
      const commit = res.data as Json;
      if (Array.isArray(commit.files)) {
        commit.files = (commit.files as Json[]).map((f) => {
          if (typeof f.patch !== 'string' || f.patch.length <= patchCap) return f;
          cutFiles += 1;
          cutTotal += f.patch.length;
          return { ...f, patch: truncatePatch(f.patch, patchCap) };
        });
      }
      return commit;
    } catch (err) {
      fail(`commit ${sha.slice(0, 12)}`, err);
      return null;
    }
  });
  if (cutFiles > 0) {
    truncated.push({ source: SOURCE, what: `patch characters of ${cutFiles} file${cutFiles > 1 ? 's' : ''} in ${full} (cap ${patchCap} per patch)`, kept: cutFiles * patchCap, total: cutTotal });
  }
  const commits = fetched.filter((c): c is Json => c !== null);

  ctx.log(`github: ${full}: ${deployments.length} deployment${deployments.length === 1 ? '' : 's'}${fromActions ? ' (workflow runs)' : ''}, ${commits.length} commit${commits.length === 1 ? '' : 's'}`);
  return { repo: { full_name: full, deployments, commits, deployment_commits: deploymentCommits }, errors: dedupe(errors), truncated };
}

/** the same failure repeated (GitHub went away mid-harvest) is one entry with a count */
function dedupe(errors: HarvestErrorEntry[]): HarvestErrorEntry[] {
  const byCause = new Map<string, { entry: HarvestErrorEntry; count: number }>();
  for (const e of errors) {
    const cause = `${e.retryable}|${e.message.replace(/^[^:]+: [^:]+: /, '')}`;
    const seen = byCause.get(cause);
    if (seen) seen.count += 1;
    else byCause.set(cause, { entry: e, count: 1 });
  }
  return [...byCause.values()].map(({ entry, count }) => (count > 1 ? { ...entry, message: `${entry.message} (and ${count - 1} more like it)` } : entry));
}

export async function harvestGithub(
  creds: GithubCredentials,
  ctx: HarvestContext,
  opts: GithubHarvestOptions,
): Promise<SourceOutcome<{ repos: unknown[] }>> {
  const errors: HarvestErrorEntry[] = [];
  const truncated: TruncationEntry[] = [];
  const repos: unknown[] = [];
  const names = [...new Set(opts.repos.map((r) => r.trim()).filter(Boolean))];
  if (names.length === 0) return { data: null, errors, truncated };
  const api = new GithubApi(creds, ctx.http, ctx.log);
  // Repositories one after another (requests within one run a few at a time); each is
  // independent: one failing is an error entry and the others go on.
  for (const full of names) {
    const [owner, name, extra] = full.split('/');
    if (!owner || !name || extra !== undefined) {
      errors.push({ source: SOURCE, message: `${full}: not owner/name`, retryable: false });
      continue;
    }
    try {
      const result = await harvestRepo(api, ctx, opts, owner, name);
      repos.push(result.repo);
      errors.push(...result.errors);
      truncated.push(...result.truncated);
    } catch (err) {
      errors.push(errorEntry(`${full}: deployments`, err, (s) => api.scrub(s)));
      ctx.log(`github: ${full}: failed`);
    }
  }
  // nothing read at all is "not harvested" (null), not an empty section
  return { data: repos.length > 0 || errors.length === 0 ? { repos } : null, errors, truncated };
}

// ---------------------------------------------------------------------------------------------
// Doctor

function scopesOf(headers: Record<string, unknown>): string[] | null {
  const raw = header(headers, 'x-oauth-scopes');
  if (raw === null) return null; // fine-grained tokens and app tokens send no scopes header
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Reachability and authentication (GET /rate_limit: any token type, costs no quota; GET /user
 * where rate limiting is disabled), classic token scopes from `x-oauth-scopes`, and one probe
 * per configured repository: deployments (deployments:read) and commits (contents:read).
 */
export async function checkGithub(creds: GithubCredentials, policy: HttpPolicy, repos: string[]): Promise<DoctorCheck> {
  const check: DoctorCheck = { source: 'github', configured: true, reachable: null, authorized: null, missing: [], detail: '' };
  const api = new GithubApi(creds, { ...policy, retries: Math.min(policy.retries, 1) }, () => {});
  let host = creds.apiUrl;
  try {
    host = new URL(creds.apiUrl).host;
  } catch {
    /* config validated it already */
  }
  const notes: string[] = [];
  let scopes: string[] | null = null;

  const authFailed = (err: VendorError) => {
    check.reachable = true;
    check.authorized = false;
    check.detail = api.scrub(`${host} rejected the token (${err.message})`);
    return check;
  };
  try {
    const res = await api.get('GET /rate_limit', {});
    check.reachable = true;
    check.authorized = true;
    scopes = scopesOf(res.headers);
    const core = ((res.data as Json | null)?.resources as Json | undefined)?.core as Json | undefined;
    notes.push(`token accepted${scopes ? ` (classic token, scopes: ${scopes.join(', ') || 'none'})` : ''}${core ? `, ${String(core.remaining)}/${String(core.limit)} requests left this hour` : ''}`);
  } catch (err) {
    const v = err instanceof VendorError ? err : new VendorError(SOURCE, String(err), null, false);
    if (v.status === 401) return authFailed(v);
    if (v.status === null || v.status >= 500) {
      check.reachable = false;
      check.detail = api.scrub(`GitHub API at ${host} not reachable: ${v.message}`);
      return check;
    }
    // 404: rate limiting disabled (GitHub Enterprise Server); ask who we are instead.
    check.reachable = true;
    try {
      const res = await api.get('GET /user', {});
      check.authorized = true;
      scopes = scopesOf(res.headers);
      notes.push(`token accepted${scopes ? ` (classic token, scopes: ${scopes.join(', ') || 'none'})` : ''}`);
    } catch (err2) {
      const v2 = err2 instanceof VendorError ? err2 : new VendorError(SOURCE, String(err2), null, false);
      if (v2.status === 401) return authFailed(v2);
      notes.push(`GET /rate_limit: ${v.message}; GET /user: ${v2.message}`);
    }
  }

  const classicWithoutRepo = scopes !== null && !scopes.includes('repo');
  const need = (permission: string, full: string) => {
    const name = classicWithoutRepo ? 'repo' : `${permission} on ${full}`;
    if (!check.missing.includes(name)) check.missing.push(name);
  };
  const problems: string[] = [];
  const probe = async (route: string, params: Json): Promise<VendorError | null> => {
    try {
      await api.get(route, params);
      return null;
    } catch (err) {
      return err instanceof VendorError ? err : new VendorError(SOURCE, String(err), null, false);
    }
  };
  for (const full of repos) {
    const [owner, name] = full.split('/');
    if (!owner || !name) continue;
    const probes: Array<[string, string, string]> = [
      ['deployments:read', 'GET /repos/{owner}/{repo}/deployments', 'deployments'],
      ['contents:read', 'GET /repos/{owner}/{repo}/commits', 'commits'],
    ];
    for (const [permission, route, what] of probes) {
      const err = await probe(route, { owner, repo: name, per_page: 1 });
      if (!err) continue;
      if (err.status === 401) return authFailed(err);
      if (err.status === 409 && what === 'commits') continue; // empty repository: readable, nothing in it
      if ((err.status === 403 || err.status === 404) && err.retryAfterMs === null) {
        need(permission, full);
        problems.push(`${full}: ${what} ${err.status === 404 ? 'not found or not visible to this token' : 'forbidden'}`);
      } else {
        problems.push(`${full}: ${what}: ${err.message}`);
        if (err.status === null) check.reachable = check.reachable ?? false;
      }
    }
  }
  if (repos.length === 0) notes.push('no repositories configured (HINDSIGHT_GITHUB_REPOS or a service mapping)');
  else notes.push(problems.length ? `${repos.length} repositor${repos.length === 1 ? 'y' : 'ies'} probed: ${problems.join('; ')}` : `${repos.length} repositor${repos.length === 1 ? 'y' : 'ies'} readable (deployments, commits)`);
  check.detail = api.scrub(notes.join('; '));
  return check;
}
