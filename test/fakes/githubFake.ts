// A loopback GitHub REST API for harvest tests: a real HTTP server on 127.0.0.1 speaking the
// shapes the GitHub source reads, served from a bundle's `sources.github.repos[]`.
//
//   GET /rate_limit, /user
//   GET /repos/{o}/{r}
//   GET /repos/{o}/{r}/deployments            environment/sha/ref/task filters, newest first, paginated
//   GET /repos/{o}/{r}/deployments/{id}/statuses   newest first, paginated
//   GET /repos/{o}/{r}/compare/{base}...{head} computed from the commit graph (below), paginated
//   GET /repos/{o}/{r}/commits                 newest first, paginated (doctor probe)
//   GET /repos/{o}/{r}/commits/{sha}           the stored commit exactly (files, patches)
//   GET /repos/{o}/{r}/actions/workflows/{workflow}/runs   created/status filters, paginated
//
// Issues (ticket filing), kept in memory per repository (`issues` seeds them; `fake.issues(repo)`):
//   GET  /repos/{o}/{r}/issues                 state (open|closed|all, default open), labels (comma =
//                                              all of them, case-insensitive), creator; newest first,
//                                              paginated; like GitHub, pull requests are listed too
//   POST /repos/{o}/{r}/issues                 {title, body, labels} -> 201; missing labels are created;
//                                              422 for no title or a label name over 50 characters
//   GET  /repos/{o}/{r}/issues/{n}
//   GET  /repos/{o}/{r}/issues/{n}/comments    oldest first, paginated
//   POST /repos/{o}/{r}/issues/{n}/comments    {body} -> 201
//   POST /repos/{o}/{r}/issues/{n}/labels      {labels} -> 200, the issue's labels
// `GET /repos/{o}/{r}` carries `permissions` when the `permissions` option is set.
//
// The commit graph: deployments oldest first, each appending the SHAs its `deployment_commits`
// entry lists (or its own sha) to one line of history; a stored commit's `parents[0]` wins where
// present. compare(base, head) is then what git would say: ahead (commits after base up to head,
// oldest first), behind (head is an ancestor of base: no commits), identical, or diverged.
//
// Auth: `Authorization: token X` or `Bearer X`; anything else is 401 Bad credentials.
// Pagination: `per_page` (default 30, at most `pageSize`, at most 100), `page`, `Link` headers.
// Faults, in order, each for `times` matching requests: 429 with retry-after, 403 with
// x-ratelimit-remaining 0 and x-ratelimit-reset, 5xx, down (connection destroyed), hang (no answer),
// server-error-after (the request is carried out, then answered with 5xx: a lost answer).
// A fault's `method` limits it to that HTTP method.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export type GithubFaultKind = 'rate-limit-429' | 'rate-limit-403' | 'server-error' | 'down' | 'hang' | 'server-error-after';

export interface GithubFault {
  kind: GithubFaultKind;
  /** requests whose path (with query string) contains this string or matches this pattern; default all */
  path?: string | RegExp;
  /** only requests with this method (GET, POST…); default any */
  method?: string;
  /** how many matching requests the fault hits; default all of them */
  times?: number;
  /** matching requests let through before the fault starts hitting; default 0 */
  skip?: number;
  /** server-error status (default 502) */
  status?: number;
  /** rate-limit-429: retry-after seconds (default 1); rate-limit-403: seconds until x-ratelimit-reset (default 1) */
  seconds?: number;
}

export interface GithubFakeRequest {
  method: string;
  /** path with query string, as received */
  path: string;
  pathname: string;
  query: Record<string, string>;
  authorization: string | null;
  /** Date.now() when the request arrived */
  at: number;
  /** status answered (null: no answer, i.e. down or hang) */
  status: number | null;
  /** parsed JSON request body (POST) */
  body?: unknown;
}

export interface GithubFakeOptions {
  token: string;
  /** a bundle's sources.github.repos[] */
  repos: unknown[];
  /** largest page served whatever per_page asks (GitHub: 100) */
  pageSize?: number;
  faults?: GithubFault[];
  /** full_name -> workflow file name or id -> workflow run objects (GitHub REST shape) */
  workflowRuns?: Record<string, Record<string, unknown[]>>;
  /** x-oauth-scopes header (classic tokens); omitted when null or undefined (fine-grained tokens) */
  scopes?: string[] | null;
  /** full_name -> issues already there (GitHub REST shape; number, title, body, state, labels, created_at) */
  issues?: Record<string, unknown[]>;
  /** `permissions` of GET /repos/{o}/{r}, e.g. { push: false } (omitted when undefined) */
  permissions?: Record<string, boolean>;
  /** POST /issues drops the labels (as GitHub does without push access) */
  dropIssueLabels?: boolean;
}

export interface GithubFake {
  url: string;
  requests: GithubFakeRequest[];
  /** the repository's issues (and pull requests), in creation order */
  issues(repo: string): Array<Record<string, any>>;
  /** the comments of one issue, oldest first */
  comments(repo: string, number: number): Array<Record<string, any>>;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

interface RepoData {
  fullName: string;
  issues: Json[];
  /** issue number -> comments */
  comments: Map<number, Json[]>;
  deployments: Json[];
  commits: Json[];
  deploymentCommits: Record<string, string[]>;
  /** sha -> first parent */
  parent: Map<string, string>;
  /** sha -> stored commit */
  bySha: Map<string, Json>;
}

const timeOf = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : 0) || 0;
const newestFirst = (a: Json, b: Json) => timeOf(b.created_at) - timeOf(a.created_at) || Number(b.id ?? 0) - Number(a.id ?? 0);

function loadRepo(raw: unknown): RepoData {
  const r = raw as Json;
  const deployments = ((r.deployments as Json[] | undefined) ?? []).map((d) => structuredClone(d));
  const commits = ((r.commits as Json[] | undefined) ?? []).map((c) => structuredClone(c));
  const deploymentCommits = structuredClone((r.deployment_commits as Record<string, string[]> | undefined) ?? {});
  const bySha = new Map(commits.map((c) => [String(c.sha), c]));
  const parent = new Map<string, string>();
  // one line of history from the deployments, oldest first
  const history: string[] = [];
  for (const d of deployments.slice().sort((a, b) => -newestFirst(a, b))) {
    for (const sha of deploymentCommits[String(d.id)] ?? [String(d.sha)]) {
      if (history.includes(sha)) continue;
      if (history.length) parent.set(sha, history[history.length - 1]!);
      history.push(sha);
    }
  }
  for (const c of commits) {
    const first = (c.parents as Array<{ sha?: string }> | undefined)?.[0]?.sha;
    if (first) parent.set(String(c.sha), first);
  }
  return { fullName: String(r.full_name), issues: [], comments: new Map(), deployments, commits, deploymentCommits, parent, bySha };
}

/** sha, its first parent, its grandparent... */
function ancestry(repo: RepoData, sha: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let cur: string | undefined = sha;
  while (cur && !seen.has(cur)) {
    out.push(cur);
    seen.add(cur);
    cur = repo.parent.get(cur);
  }
  return out;
}

function resolveSha(repo: RepoData, ref: string): string | null {
  if (repo.bySha.has(ref)) return ref;
  const known = new Set<string>([...repo.bySha.keys(), ...repo.parent.keys(), ...repo.parent.values(), ...repo.deployments.map((d) => String(d.sha))]);
  if (known.has(ref)) return ref;
  if (ref.length >= 7) for (const s of known) if (s.startsWith(ref)) return s;
  return null;
}

function listCommit(repo: RepoData, sha: string): Json {
  const stored = repo.bySha.get(sha);
  if (stored) {
    const { files: _files, stats: _stats, ...rest } = stored;
    return structuredClone(rest);
  }
  const p = repo.parent.get(sha);
  return {
    sha,
    commit: { message: `commit ${sha.slice(0, 7)}`, author: { name: 'Fake Author', email: 'fake@example.invalid', date: '2024-01-01T00:00:00Z' } },
    author: { login: 'fake-author', type: 'User' },
    parents: p ? [{ sha: p }] : [],
  };
}

function fullCommit(repo: RepoData, sha: string): Json {
  const stored = repo.bySha.get(sha);
  return stored ? structuredClone(stored) : { ...listCommit(repo, sha), files: [] };
}

/** `>=2024-01-01T00:00:00Z`, `<…`, `a..b`, or a date: does the time pass? */
function createdFilter(expr: string | undefined): (t: number) => boolean {
  if (!expr) return () => true;
  const range = /^(.+)\.\.(.+)$/.exec(expr);
  if (range) {
    const a = range[1] === '*' ? -Infinity : Date.parse(range[1]!);
    const b = range[2] === '*' ? Infinity : Date.parse(range[2]!);
    return (t) => t >= a && t <= b;
  }
  const m = /^(>=|<=|>|<)?(.+)$/.exec(expr)!;
  const at = Date.parse(m[2]!);
  switch (m[1]) {
    case '>=':
      return (t) => t >= at;
    case '<=':
      return (t) => t <= at;
    case '>':
      return (t) => t > at;
    case '<':
      return (t) => t < at;
    default:
      return (t) => t >= at && t < at + 86_400_000;
  }
}

export async function createGithubFake(options: GithubFakeOptions): Promise<GithubFake> {
  const repos = new Map<string, RepoData>();
  for (const raw of options.repos) {
    const repo = loadRepo(raw);
    repos.set(repo.fullName.toLowerCase(), repo);
  }
  let nextId = 9_000_000;
  const labelObject = (name: string): Json => ({ id: nextId++, name, color: 'ededed', default: false, description: null });
  for (const [name, list] of Object.entries(options.issues ?? {})) {
    let repo = repos.get(name.toLowerCase());
    if (!repo) {
      repo = loadRepo({ full_name: name });
      repos.set(name.toLowerCase(), repo);
    }
    for (const raw of list as Json[]) {
      const issue = structuredClone(raw);
      issue.number ??= repo.issues.length + 1;
      issue.id ??= nextId++;
      issue.state ??= 'open';
      issue.body ??= null;
      issue.created_at ??= '2024-01-01T00:00:00Z';
      issue.labels = ((issue.labels as unknown[] | undefined) ?? []).map((l) => (typeof l === 'string' ? labelObject(l) : l));
      issue.html_url ??= `https://github.com/${repo.fullName}/issues/${String(issue.number)}`;
      repo.issues.push(issue);
    }
  }
  const runs = new Map<string, Record<string, unknown[]>>();
  for (const [name, byWorkflow] of Object.entries(options.workflowRuns ?? {})) runs.set(name.toLowerCase(), byWorkflow);
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? Infinity, skipLeft: f.skip ?? 0 }));
  const requests: GithubFakeRequest[] = [];
  const maxPage = Math.min(100, options.pageSize ?? 100);
  let used = 0;
  let baseUrl = '';

  const send = (res: ServerResponse, rec: GithubFakeRequest, status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    const resetAt = Math.ceil(Date.now() / 1000) + 3600;
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(Math.max(0, 5000 - used)),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
      ...(options.scopes ? { 'x-oauth-scopes': options.scopes.join(', '), 'x-accepted-oauth-scopes': '' } : {}),
      ...headers,
    });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, rec: GithubFakeRequest) => send(res, rec, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });

  /** one page of `items` plus its Link header */
  const paginate = <T>(req: IncomingMessage, query: Record<string, string>, items: T[], defaultPer = 30): { page: T[]; headers: Record<string, string> } => {
    const per = Math.max(1, Math.min(Number(query.per_page) || defaultPer, maxPage));
    const page = Math.max(1, Math.floor(Number(query.page) || 1));
    const last = Math.max(1, Math.ceil(items.length / per));
    const link = (p: number) => {
      const u = new URL(req.url ?? '/', baseUrl);
      u.searchParams.set('per_page', String(per));
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`);
    return { page: items.slice((page - 1) * per, page * per), headers: rels.length ? { link: rels.join(', ') } : {} };
  };

  const route = (req: IncomingMessage, res: ServerResponse, rec: GithubFakeRequest) => {
    const parts = rec.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = rec.query;
    if (parts[0] === 'repos' && parts[3] === 'issues') {
      const repo = repos.get(`${parts[1]}/${parts[2]}`.toLowerCase());
      if (!repo) return notFound(res, rec);
      return routeIssues(req, res, rec, repo, parts.slice(4));
    }
    if (req.method !== 'GET') return send(res, rec, 404, { message: 'Not Found', documentation_url: DOCS });
    if (parts.length === 1 && parts[0] === 'rate_limit') {
      const core = { limit: 5000, used, remaining: 5000 - used, reset: Math.ceil(Date.now() / 1000) + 3600 };
      return send(res, rec, 200, { resources: { core, search: { limit: 30, used: 0, remaining: 30, reset: core.reset } }, rate: core });
    }
    if (parts.length === 1 && parts[0] === 'user') return send(res, rec, 200, { login: 'hindsight-bot', id: 1, type: 'User' });
    if (parts[0] !== 'repos' || parts.length < 3) return notFound(res, rec);
    const repo = repos.get(`${parts[1]}/${parts[2]}`.toLowerCase());
    if (!repo) return notFound(res, rec);
    const rest = parts.slice(3);

    if (rest.length === 0) {
      const [owner, name] = repo.fullName.split('/');
      return send(res, rec, 200, {
        id: 1,
        name,
        full_name: repo.fullName,
        owner: { login: owner, type: 'Organization' },
        private: true,
        default_branch: 'main',
        ...(options.permissions ? { permissions: options.permissions } : {}),
      });
    }
    if (rest[0] === 'deployments' && rest.length === 1) {
      const list = repo.deployments
        .filter((d) => (!q.environment || d.environment === q.environment) && (!q.sha || d.sha === q.sha) && (!q.ref || d.ref === q.ref) && (!q.task || d.task === q.task))
        .sort(newestFirst)
        .map(({ statuses: _statuses, ...d }) => d);
      const { page, headers } = paginate(req, q, list);
      return send(res, rec, 200, page, headers);
    }
    if (rest[0] === 'deployments' && rest.length === 3 && rest[2] === 'statuses') {
      const d = repo.deployments.find((x) => String(x.id) === rest[1]);
      if (!d) return notFound(res, rec);
      const statuses = ((d.statuses as Json[] | undefined) ?? []).slice().sort(newestFirst);
      const { page, headers } = paginate(req, q, statuses);
      return send(res, rec, 200, page, headers);
    }
    if (rest[0] === 'compare' && rest.length === 2) {
      const m = /^(.+?)\.\.\.(.+)$/.exec(rest[1]!);
      if (!m) return notFound(res, rec);
      const base = resolveSha(repo, m[1]!);
      const head = resolveSha(repo, m[2]!);
      if (!base || !head) return notFound(res, rec);
      const headLine = ancestry(repo, head);
      const baseLine = ancestry(repo, base);
      const mergeBase = headLine.find((s) => baseLine.includes(s));
      if (!mergeBase) return send(res, rec, 404, { message: `No common ancestor between ${m[1]} and ${m[2]}.`, documentation_url: DOCS, status: '404' });
      const ahead = headLine.slice(0, headLine.indexOf(mergeBase)).reverse();
      const behindBy = baseLine.indexOf(mergeBase);
      const status = ahead.length === 0 && behindBy === 0 ? 'identical' : ahead.length === 0 ? 'behind' : behindBy === 0 ? 'ahead' : 'diverged';
      const commits = ahead.map((s) => listCommit(repo, s));
      const paged = q.per_page || q.page ? paginate(req, q, commits) : { page: commits.slice(0, 250), headers: {} };
      return send(
        res,
        rec,
        200,
        {
          url: `${baseUrl}/repos/${repo.fullName}/compare/${m[1]}...${m[2]}`,
          html_url: `https://github.com/${repo.fullName}/compare/${m[1]}...${m[2]}`,
          status,
          ahead_by: ahead.length,
          behind_by: behindBy,
          total_commits: ahead.length,
          base_commit: listCommit(repo, base),
          merge_base_commit: listCommit(repo, mergeBase),
          commits: paged.page,
          files: [],
        },
        paged.headers,
      );
    }
    if (rest[0] === 'commits' && rest.length === 1) {
      const all = [...repo.bySha.values()].sort((a, b) => timeOf(((b.commit as Json)?.committer as Json)?.date) - timeOf(((a.commit as Json)?.committer as Json)?.date)).map((c) => listCommit(repo, String(c.sha)));
      const { page, headers } = paginate(req, q, all);
      return send(res, rec, 200, page, headers);
    }
    if (rest[0] === 'commits' && rest.length === 2) {
      const sha = resolveSha(repo, rest[1]!);
      if (!sha) return send(res, rec, 422, { message: `No commit found for SHA: ${rest[1]}`, documentation_url: DOCS, status: '422' });
      return send(res, rec, 200, fullCommit(repo, sha));
    }
    if (rest[0] === 'actions' && rest[1] === 'workflows' && rest[3] === 'runs' && rest.length === 4) {
      const list = runs.get(repo.fullName.toLowerCase())?.[rest[2]!];
      if (!list) return notFound(res, rec);
      const passes = createdFilter(q.created);
      const conclusions = new Set(['success', 'failure', 'neutral', 'cancelled', 'skipped', 'timed_out', 'action_required', 'stale', 'startup_failure']);
      const filtered = (list as Json[])
        .filter((r) => passes(timeOf(r.created_at)))
        .filter((r) => !q.status || (conclusions.has(q.status) ? r.conclusion === q.status : r.status === q.status))
        .filter((r) => !q.branch || r.head_branch === q.branch)
        .filter((r) => !q.head_sha || r.head_sha === q.head_sha)
        .slice()
        .sort(newestFirst);
      const { page, headers } = paginate(req, q, filtered);
      return send(res, rec, 200, { total_count: filtered.length, workflow_runs: structuredClone(page) }, headers);
    }
    return notFound(res, rec);
  };

  const labelNames = (issue: Json) => ((issue.labels as Json[] | undefined) ?? []).map((l) => String(l.name));
  const validationFailed = (res: ServerResponse, rec: GithubFakeRequest, field: string, code = 'missing_field') =>
    send(res, rec, 422, { message: 'Validation Failed', errors: [{ resource: 'Issue', code, field }], documentation_url: DOCS, status: '422' });
  const badLabels = (labels: unknown) => !Array.isArray(labels) || labels.some((l) => typeof (typeof l === 'string' ? l : (l as Json)?.name) !== 'string');
  const labelList = (labels: unknown[]) => labels.map((l) => String(typeof l === 'string' ? l : (l as Json).name).trim()).filter(Boolean);

  const routeIssues = (req: IncomingMessage, res: ServerResponse, rec: GithubFakeRequest, repo: RepoData, rest: string[]) => {
    const q = rec.query;
    const body = (rec.body ?? {}) as Json;
    if (rest.length === 0 && req.method === 'GET') {
      const state = q.state ?? 'open';
      const wanted = (q.labels ?? '').split(',').map((l) => l.trim().toLowerCase()).filter(Boolean);
      const list = repo.issues
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => wanted.every((w) => labelNames(i).some((n) => n.toLowerCase() === w)))
        .filter((i) => !q.creator || (i.user as Json | undefined)?.login === q.creator)
        .slice()
        .sort((a, b) => (q.direction === 'asc' ? 1 : -1) * (timeOf(a.created_at) - timeOf(b.created_at) || Number(a.number) - Number(b.number)));
      const { page, headers } = paginate(req, q, list);
      return send(res, rec, 200, structuredClone(page), headers);
    }
    if (rest.length === 0 && req.method === 'POST') {
      if (typeof body.title !== 'string' || body.title.trim() === '') return validationFailed(res, rec, 'title');
      if (body.labels !== undefined && badLabels(body.labels)) return validationFailed(res, rec, 'labels', 'invalid');
      const names = labelList((body.labels as unknown[] | undefined) ?? []);
      if (names.some((n) => n.length > 50)) return validationFailed(res, rec, 'name', 'invalid');
      const number = repo.issues.reduce((m, i) => Math.max(m, Number(i.number)), 0) + 1;
      const issue: Json = {
        id: nextId++,
        number,
        title: body.title,
        body: typeof body.body === 'string' ? body.body : null,
        state: 'open',
        labels: options.dropIssueLabels ? [] : [...new Set(names)].map(labelObject),
        user: { login: 'hindsight-bot', type: 'User' },
        comments: 0,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
        url: `${baseUrl}/repos/${repo.fullName}/issues/${number}`,
        html_url: `https://github.com/${repo.fullName}/issues/${number}`,
      };
      repo.issues.push(issue);
      return send(res, rec, 201, structuredClone(issue));
    }
    const issue = repo.issues.find((i) => String(i.number) === rest[0]);
    if (!issue) return notFound(res, rec);
    if (rest.length === 1 && req.method === 'GET') return send(res, rec, 200, structuredClone(issue));
    if (rest.length === 2 && rest[1] === 'comments') {
      const list = repo.comments.get(Number(issue.number)) ?? [];
      if (req.method === 'GET') {
        const { page, headers } = paginate(req, q, list);
        return send(res, rec, 200, structuredClone(page), headers);
      }
      if (req.method === 'POST') {
        if (typeof body.body !== 'string' || body.body === '') return validationFailed(res, rec, 'body');
        const id = nextId++;
        const comment: Json = {
          id,
          body: body.body,
          user: { login: 'hindsight-bot', type: 'User' },
          created_at: new Date().toISOString(),
          html_url: `https://github.com/${repo.fullName}/issues/${String(issue.number)}#issuecomment-${id}`,
        };
        list.push(comment);
        repo.comments.set(Number(issue.number), list);
        issue.comments = list.length;
        return send(res, rec, 201, structuredClone(comment));
      }
    }
    if (rest.length === 2 && rest[1] === 'labels' && req.method === 'POST') {
      if (badLabels(body.labels)) return validationFailed(res, rec, 'labels', 'invalid');
      const add = labelList(body.labels as unknown[]);
      if (add.some((n) => n.length > 50)) return validationFailed(res, rec, 'name', 'invalid');
      const have = labelNames(issue).map((n) => n.toLowerCase());
      for (const n of add) if (!have.includes(n.toLowerCase())) (issue.labels as Json[]).push(labelObject(n));
      return send(res, rec, 200, structuredClone(issue.labels));
    }
    return notFound(res, rec);
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: GithubFakeRequest = {
      method: req.method ?? 'GET',
      path: u.pathname + u.search,
      pathname: u.pathname,
      query: Object.fromEntries(u.searchParams),
      authorization: req.headers.authorization ?? null,
      at: Date.now(),
      status: null,
    };
    requests.push(rec);
    // a GET is handled at once, as it always was; other methods once their body is in
    if (rec.method === 'GET' || rec.method === 'HEAD') return handle(req, res, rec);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text) {
        try {
          rec.body = JSON.parse(text);
        } catch {
          return send(res, rec, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
        }
      }
      handle(req, res, rec);
    });
  });

  const handle = (req: IncomingMessage, res: ServerResponse, rec: GithubFakeRequest) => {
    const fault = faults.find((f) => {
      const matches =
        f.left > 0 &&
        (f.method === undefined || f.method.toUpperCase() === rec.method) &&
        (f.path === undefined || (typeof f.path === 'string' ? rec.path.includes(f.path) : f.path.test(rec.path)));
      if (matches && f.skipLeft > 0) {
        f.skipLeft -= 1;
        return false;
      }
      return matches;
    });
    if (fault && fault.kind !== 'server-error-after') {
      fault.left -= 1;
      switch (fault.kind) {
        case 'down':
          req.socket.destroy();
          return;
        case 'hang':
          return; // never answered; close() drops the connection
        case 'server-error':
          return send(res, rec, fault.status ?? 502, { message: 'Server Error' });
        case 'rate-limit-429':
          return send(
            res,
            rec,
            429,
            { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api`, status: '429' },
            { 'retry-after': String(fault.seconds ?? 1) },
          );
        case 'rate-limit-403':
          return send(
            res,
            rec,
            403,
            { message: 'API rate limit exceeded for user ID 1.', documentation_url: `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api`, status: '403' },
            { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + (fault.seconds ?? 1)), 'x-ratelimit-used': '5000' },
          );
      }
    }

    const auth = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(rec.authorization ?? '');
    if (!auth || auth[1] !== options.token) return send(res, rec, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    used += 1;
    if (fault) {
      // carried out, answer lost: the route's answer is replaced by a 5xx
      fault.left -= 1;
      const sink = { writeHead: () => sink, end: () => sink } as unknown as ServerResponse;
      try {
        route(req, sink, rec);
      } catch {
        // the answer is lost either way
      }
      return send(res, rec, fault.status ?? 502, { message: 'Server Error' });
    }
    try {
      route(req, res, rec);
    } catch (err) {
      send(res, rec, 500, { message: `fake: ${(err as Error).message}` });
    }
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    requests,
    issues: (repo) => repos.get(repo.toLowerCase())?.issues ?? [],
    comments: (repo, number) => repos.get(repo.toLowerCase())?.comments.get(number) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
