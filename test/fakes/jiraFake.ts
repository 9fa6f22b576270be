// A loopback Jira Cloud REST v3 API for ticket tests: a real HTTP server on 127.0.0.1 speaking
// what jira.js@5 (Version3Client) sends for ticket filing.
//
//   POST /rest/api/3/search/jql            {jql, fields, maxResults, nextPageToken} -> {issues, nextPageToken?}
//   GET  /rest/api/3/search/jql            the same as query parameters
//   POST /rest/api/3/issue                 {fields: {project: {key}, summary, description (ADF), labels,
//                                          issuetype: {name}, priority: {name}}} -> 201 {id, key, self};
//                                          400 {errorMessages, errors} for an unknown project, issue
//                                          type or priority, a missing summary or a label with spaces
//   GET  /rest/api/3/issue/{key}
//   PUT  /rest/api/3/issue/{key}           {update: {labels: [{add}|{remove}]}, fields: {labels}} -> 204
//   GET  /rest/api/3/issue/{key}/comment   startAt/maxResults -> {startAt, maxResults, total, comments}
//   POST /rest/api/3/issue/{key}/comment   {body (ADF)} -> 201 comment
//
// Auth: `Authorization: Basic base64(email:apiToken)`; anything else is 401.
// JQL: clauses joined by AND, each `field = value`, `field != value`, `field in (a, b)` or
// `field not in (…)` over project, labels, status, statusCategory, issuetype, priority, key,
// summary (`~` contains); values bare or double-quoted; `ORDER BY created|key [ASC|DESC]`.
// Faults: `server-error` (answered 5xx before anything happens), `server-error-after` (carried
// out, then answered 5xx: a lost answer), `rate-limit` (429 with retry-after), each for `times`
// matching requests (method and path).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>;

export interface JiraFakeIssue {
  id: string;
  key: string;
  fields: {
    project: { key: string };
    summary: string;
    description: unknown;
    labels: string[];
    issuetype: { name: string };
    priority: { name: string } | null;
    status: { name: string; statusCategory: { key: 'new' | 'indeterminate' | 'done'; name: string } };
    created: string;
  };
  comments: Json[];
}

export interface JiraFakeSeed {
  project: string;
  summary: string;
  description?: unknown;
  labels?: string[];
  /** status name; Done/Closed/Resolved are in the Done category, In Progress in progress, else To Do */
  status?: string;
  issuetype?: string;
  priority?: string;
}

export interface JiraFakeFault {
  kind: 'server-error' | 'server-error-after' | 'rate-limit';
  method?: string;
  path?: string | RegExp;
  times?: number;
  status?: number;
}

export interface JiraFakeOptions {
  email: string;
  apiToken: string;
  projects: string[];
  /** issue type names accepted on create (default Task, Bug, Story) */
  issueTypes?: string[];
  /** priority names accepted on create (default Highest, High, Medium, Low, Lowest) */
  priorities?: string[];
  issues?: JiraFakeSeed[];
  faults?: JiraFakeFault[];
  /** largest page served (default 50) */
  pageSize?: number;
}

export interface JiraFakeRequest {
  method: string;
  path: string;
  pathname: string;
  body: unknown;
  status: number | null;
}

export interface JiraFake {
  url: string;
  requests: JiraFakeRequest[];
  /** every issue of a project, in creation order */
  issues(project?: string): JiraFakeIssue[];
  issue(key: string): JiraFakeIssue | undefined;
  close(): Promise<void>;
}

function statusOf(name: string): JiraFakeIssue['fields']['status'] {
  if (/^(done|closed|resolved)$/i.test(name)) return { name, statusCategory: { key: 'done', name: 'Done' } };
  if (/progress|review/i.test(name)) return { name, statusCategory: { key: 'indeterminate', name: 'In Progress' } };
  return { name, statusCategory: { key: 'new', name: 'To Do' } };
}

// ---------------------------------------------------------------------------------------------
// JQL (the subset the ticket filers use)

type Clause = { field: string; op: '=' | '!=' | 'in' | 'not in' | '~'; values: string[] };

function tokenize(jql: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|(!=|=|~|\(|\)|,)|([^\s=!~(),"]+))/y;
  let pos = 0;
  while (jql.slice(pos).trim() !== '') {
    re.lastIndex = pos;
    const m = re.exec(jql);
    if (!m) throw new Error(`cannot parse JQL near "${jql.slice(pos)}"`);
    if (m[1] !== undefined) tokens.push(`"${m[1].replace(/\\(.)/g, '$1')}`);
    else tokens.push(m[2] ?? m[3]!);
    pos = re.lastIndex;
  }
  return tokens;
}

const value = (t: string | undefined) => {
  if (t === undefined) throw new Error('JQL: value expected');
  return t.startsWith('"') ? t.slice(1) : t;
};

export function parseJql(jql: string): { clauses: Clause[]; order: { field: string; dir: 'asc' | 'desc' } | null } {
  const tokens = tokenize(jql);
  const clauses: Clause[] = [];
  let order: { field: string; dir: 'asc' | 'desc' } | null = null;
  let i = 0;
  while (i < tokens.length) {
    if (tokens[i]!.toLowerCase() === 'order' && tokens[i + 1]?.toLowerCase() === 'by') {
      const dir = tokens[i + 3]?.toLowerCase() === 'desc' ? 'desc' : 'asc';
      order = { field: value(tokens[i + 2]).toLowerCase(), dir };
      break;
    }
    if (clauses.length > 0) {
      if (tokens[i]!.toLowerCase() !== 'and') throw new Error(`JQL: only AND is supported (got "${tokens[i]}")`);
      i += 1;
    }
    const field = value(tokens[i++]).toLowerCase();
    let op = tokens[i++]?.toLowerCase();
    if (op === 'not' && tokens[i]?.toLowerCase() === 'in') {
      op = 'not in';
      i += 1;
    }
    if (op === 'in' || op === 'not in') {
      if (tokens[i++] !== '(') throw new Error('JQL: ( expected');
      const values: string[] = [];
      while (tokens[i] !== ')') {
        if (tokens[i] === ',') i += 1;
        else values.push(value(tokens[i++]));
        if (i >= tokens.length) throw new Error('JQL: ) expected');
      }
      i += 1;
      clauses.push({ field, op, values });
    } else if (op === '=' || op === '!=' || op === '~') {
      clauses.push({ field, op, values: [value(tokens[i++])] });
    } else {
      throw new Error(`JQL: unsupported operator "${op}"`);
    }
  }
  return { clauses, order };
}

function fieldValues(issue: JiraFakeIssue, field: string): string[] {
  const f = issue.fields;
  switch (field) {
    case 'project':
      return [f.project.key];
    case 'labels':
      return f.labels;
    case 'status':
      return [f.status.name];
    case 'statuscategory':
      return [f.status.statusCategory.name, f.status.statusCategory.key];
    case 'issuetype':
    case 'type':
      return [f.issuetype.name];
    case 'priority':
      return f.priority ? [f.priority.name] : [];
    case 'key':
    case 'issuekey':
      return [issue.key];
    case 'summary':
      return [f.summary];
    default:
      throw new Error(`JQL: unknown field "${field}"`);
  }
}

export function matchesJql(issue: JiraFakeIssue, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    // labels are case-sensitive in Jira; everything else here is not
    const cs = c.field === 'labels';
    const have = fieldValues(issue, c.field).map((v) => (cs ? v : v.toLowerCase()));
    const wanted = c.values.map((v) => (cs ? v : v.toLowerCase()));
    const eq = (v: string) => have.includes(v);
    switch (c.op) {
      case '=':
        return eq(wanted[0]!);
      case '!=':
        return !eq(wanted[0]!);
      case 'in':
        return wanted.some(eq);
      case 'not in':
        return !wanted.some(eq);
      case '~':
        return have.some((h) => h.includes(wanted[0]!));
    }
  });
}

// ---------------------------------------------------------------------------------------------

export async function createJiraFake(options: JiraFakeOptions): Promise<JiraFake> {
  const projects = new Set(options.projects.map((p) => p.toUpperCase()));
  const issueTypes = options.issueTypes ?? ['Task', 'Bug', 'Story'];
  const priorities = options.priorities ?? ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
  const pageSize = options.pageSize ?? 50;
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? Infinity }));
  const requests: JiraFakeRequest[] = [];
  const issues: JiraFakeIssue[] = [];
  const counters = new Map<string, number>();
  let nextId = 10_000;
  let nextCommentId = 50_000;
  let seq = 0;
  let baseUrl = '';
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;

  const addIssue = (project: string, fields: Omit<JiraFakeIssue['fields'], 'project' | 'created'>): JiraFakeIssue => {
    const n = (counters.get(project) ?? 0) + 1;
    counters.set(project, n);
    const issue: JiraFakeIssue = {
      id: String(nextId++),
      key: `${project}-${n}`,
      fields: { ...fields, project: { key: project }, created: new Date(Date.UTC(2024, 0, 1) + seq++ * 1000).toISOString() },
      comments: [],
    };
    issues.push(issue);
    return issue;
  };
  for (const s of options.issues ?? []) {
    addIssue(s.project.toUpperCase(), {
      summary: s.summary,
      description: s.description ?? null,
      labels: s.labels ?? [],
      issuetype: { name: s.issuetype ?? 'Task' },
      priority: s.priority ? { name: s.priority } : null,
      status: statusOf(s.status ?? 'To Do'),
    });
  }

  const send = (res: ServerResponse, rec: JiraFakeRequest, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const errors = (res: ServerResponse, rec: JiraFakeRequest, status: number, errorMessages: string[], errs: Record<string, string> = {}) =>
    send(res, rec, status, { errorMessages, errors: errs });
  const self = (issue: JiraFakeIssue) => `${baseUrl}/rest/api/3/issue/${issue.id}`;
  const find = (idOrKey: string) => issues.find((i) => i.key.toLowerCase() === idOrKey.toLowerCase() || i.id === idOrKey);

  const view = (issue: JiraFakeIssue, fields: string[] | null) => {
    const all: Json = { ...issue.fields, comment: { comments: issue.comments, total: issue.comments.length } };
    const picked = fields === null || fields.includes('*all') || fields.includes('*navigable') ? all : Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]));
    return structuredClone({ id: issue.id, key: issue.key, self: self(issue), fields: picked });
  };

  const search = (res: ServerResponse, rec: JiraFakeRequest, params: Json) => {
    if (typeof params.jql !== 'string' || params.jql.trim() === '') return errors(res, rec, 400, ['Unbounded JQL queries are not allowed here.']);
    let parsed: ReturnType<typeof parseJql>;
    try {
      parsed = parseJql(params.jql);
    } catch (err) {
      return errors(res, rec, 400, [`Error in the JQL Query: ${(err as Error).message}`]);
    }
    let list: JiraFakeIssue[];
    try {
      list = issues.filter((i) => matchesJql(i, parsed.clauses));
    } catch (err) {
      return errors(res, rec, 400, [(err as Error).message]);
    }
    if (parsed.order) {
      const { field, dir } = parsed.order;
      const keyOf = (i: JiraFakeIssue) => (field === 'key' ? Number(i.key.split('-').pop()) : Date.parse(i.fields.created));
      list = list.slice().sort((a, b) => (dir === 'asc' ? 1 : -1) * (keyOf(a) - keyOf(b)));
    }
    const per = Math.max(1, Math.min(Number(params.maxResults) || 50, pageSize));
    const start = params.nextPageToken ? Number(Buffer.from(String(params.nextPageToken), 'base64url').toString('utf8')) || 0 : 0;
    const page = list.slice(start, start + per);
    const fields = Array.isArray(params.fields) ? (params.fields as string[]) : typeof params.fields === 'string' ? params.fields.split(',') : ['id'];
    const body: Json = { issues: page.map((i) => view(i, fields)) };
    if (start + per < list.length) body.nextPageToken = Buffer.from(String(start + per), 'utf8').toString('base64url');
    return send(res, rec, 200, body);
  };

  const route = (req: IncomingMessage, res: ServerResponse, rec: JiraFakeRequest, query: URLSearchParams) => {
    const parts = rec.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const body = (rec.body ?? {}) as Json;
    if (parts[0] !== 'rest' || parts[1] !== 'api' || parts[2] !== '3') return errors(res, rec, 404, ['Not found']);
    const rest = parts.slice(3);
    const method = req.method ?? 'GET';

    if (rest[0] === 'search' && rest[1] === 'jql' && rest.length === 2) {
      if (method === 'POST') return search(res, rec, body);
      if (method === 'GET') return search(res, rec, Object.fromEntries(query));
    }
    if (rest[0] === 'search' && rest.length === 1) return errors(res, rec, 410, ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.']);

    if (rest[0] === 'issue' && rest.length === 1 && method === 'POST') {
      const f = (body.fields ?? {}) as Json;
      const errs: Record<string, string> = {};
      const project = String(f.project?.key ?? '').toUpperCase();
      if (!projects.has(project)) errs.project = 'valid project is required';
      if (typeof f.summary !== 'string' || f.summary.trim() === '') errs.summary = 'You must specify a summary of the issue.';
      else if (f.summary.length > 255) errs.summary = 'Summary must be less than 255 characters.';
      if (!issueTypes.includes(String(f.issuetype?.name))) errs.issuetype = 'The issue type selected is invalid.';
      if (f.priority !== undefined && !priorities.includes(String(f.priority?.name))) errs.priority = `Priority name '${String(f.priority?.name)}' is not valid`;
      const labels = (f.labels ?? []) as unknown[];
      if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || /\s/.test(l) || l === '')) errs.labels = 'The label must not contain spaces.';
      if (f.description !== undefined && f.description !== null && (typeof f.description !== 'object' || f.description.type !== 'doc')) {
        errs.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
      }
      if (Object.keys(errs).length) return errors(res, rec, 400, [], errs);
      const issue = addIssue(project, {
        summary: f.summary,
        description: f.description ?? null,
        labels: [...new Set(labels as string[])],
        issuetype: { name: f.issuetype.name },
        priority: f.priority ? { name: f.priority.name } : { name: 'Medium' },
        status: statusOf('To Do'),
      });
      return send(res, rec, 201, { id: issue.id, key: issue.key, self: self(issue) });
    }

    if (rest[0] === 'issue' && rest.length >= 2) {
      const issue = find(rest[1]!);
      if (!issue) return errors(res, rec, 404, ['Issue does not exist or you do not have permission to see it.']);
      if (rest.length === 2 && method === 'GET') return send(res, rec, 200, view(issue, null));
      if (rest.length === 2 && method === 'PUT') {
        const ops = (body.update?.labels ?? []) as Json[];
        let labels = body.fields?.labels !== undefined ? [...(body.fields.labels as string[])] : [...issue.fields.labels];
        for (const op of ops) {
          const l = String(op.add ?? op.remove ?? op.set ?? '');
          if (/\s/.test(l)) return errors(res, rec, 400, [], { labels: 'The label must not contain spaces.' });
          if (op.add !== undefined && !labels.includes(l)) labels.push(l);
          if (op.remove !== undefined) labels = labels.filter((x) => x !== l);
        }
        issue.fields.labels = labels;
        return send(res, rec, 204);
      }
      if (rest.length === 3 && rest[2] === 'comment') {
        if (method === 'GET') {
          const startAt = Math.max(0, Number(query.get('startAt')) || 0);
          const maxResults = Math.max(1, Math.min(Number(query.get('maxResults')) || 50, pageSize));
          return send(res, rec, 200, { startAt, maxResults, total: issue.comments.length, comments: structuredClone(issue.comments.slice(startAt, startAt + maxResults)) });
        }
        if (method === 'POST') {
          if (!body.body || typeof body.body !== 'object' || body.body.type !== 'doc') return errors(res, rec, 400, [], { comment: 'Comment body can not be empty!' });
          const id = String(nextCommentId++);
          const comment = { id, self: `${self(issue)}/comment/${id}`, body: body.body, created: new Date().toISOString(), author: { accountId: 'hindsight-bot', displayName: 'Hindsight' } };
          issue.comments.push(comment);
          return send(res, rec, 201, structuredClone(comment));
        }
      }
    }
    return errors(res, rec, 404, ['Not found']);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rec: JiraFakeRequest, query: URLSearchParams) => {
    const fault = faults.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method.toUpperCase() === rec.method) &&
        (f.path === undefined || (typeof f.path === 'string' ? rec.path.includes(f.path) : f.path.test(rec.path))),
    );
    if (fault && fault.kind !== 'server-error-after') {
      fault.left -= 1;
      if (fault.kind === 'rate-limit') return send(res, rec, 429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, { 'retry-after': '0' });
      return send(res, rec, fault.status ?? 503, { errorMessages: ['Service unavailable'], errors: {} });
    }
    if (req.headers.authorization !== expectedAuth) {
      return send(res, rec, 401, { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} }, { 'www-authenticate': 'Basic realm="protected-area"' });
    }
    if (fault) {
      fault.left -= 1;
      const sink = { writeHead: () => sink, end: () => sink } as unknown as ServerResponse;
      try {
        route(req, sink, rec, query);
      } catch {
        // the answer is lost either way
      }
      return send(res, rec, fault.status ?? 502, { errorMessages: ['Bad gateway'], errors: {} });
    }
    try {
      route(req, res, rec, query);
    } catch (err) {
      send(res, rec, 500, { errorMessages: [`fake: ${(err as Error).message}`], errors: {} });
    }
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: JiraFakeRequest = { method: req.method ?? 'GET', path: u.pathname + u.search, pathname: u.pathname, body: undefined, status: null };
    requests.push(rec);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text) {
        try {
          rec.body = JSON.parse(text);
        } catch {
          return send(res, rec, 400, { errorMessages: ['Unexpected character in the JSON body'], errors: {} });
        }
      }
      handle(req, res, rec, u.searchParams);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    requests,
    issues: (project) => (project ? issues.filter((i) => i.fields.project.key === project.toUpperCase()) : issues.slice()),
    issue: (key) => find(key),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
