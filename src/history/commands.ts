// The `hindsight history …` and `hindsight eval-history DIR` commands (cli.ts dispatches here).
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseFlags, oneOf } from '../cli/args.js';
import { redactSecrets, Redactor } from '../core/redact.js';
import { InputError } from '../io/files.js';
import { IncidentStore, hindsightHome } from '../store/incidentStore.js';
import { normalizeDate, normalizeSeverity } from './features.js';
import { historyOf } from './backend.js';
import { contentHash, importPaths, importPathsInto, parsePostmortem, postmortemFiles } from './import.js';
import { searchConfiguredHistory, UnknownIncidentError } from './service.js';
import type { PineconeHistory } from './pinecone.js';
import type { HistoryQuery } from './query.js';
import type { HistoryFilter, PastIncident, SimilarPast } from './types.js';

type Out = (text: string) => void;

export const HISTORY_HELP = `hindsight history import PATH... [--format text|json]
hindsight history search [TEXT] [--incident ID] [--service S] [--from DATE] [--to DATE]
                         [--severity SEV] [--limit N] [--format text|json]
hindsight history show ID [--format text|json]
hindsight history list [--limit N]
hindsight history init-index                 (Pinecone: create the dense and sparse indexes)

import   reads past post-mortems (files or directories): Markdown (Google SRE template,
         incident.io, Rootly, FireHydrant, Jeli exports, free form), HTML (Confluence, Notion
         exports) and JSON (a Hindsight report, or the generic shape in docs/history.md).
         Idempotent: a file already imported with the same content is skipped. A file that
         cannot be read is reported and skipped; the exit code is 1 when any was.
search   similar past incidents, for a text (an error message, a config key, a description)
         or for a stored incident (--incident ID), each with why_similar. Filters: --service,
         --from/--to (incident date), --severity (SEV1..SEV5, P1.., critical/major/minor).
show     one past incident as the history holds it.
list     the most recent past incidents.

Data lives in HINDSIGHT_HOME (default ~/.hindsight). With HINDSIGHT_DATABASE_URL=postgres://…
set, the history lives in PostgreSQL instead (schema hindsight_history, migrated on first use),
shared by every process and replica using that database. With PINECONE_API_KEY set, imports are
also upserted to Pinecone (indexes PINECONE_INDEX, default hindsight-history, and <index>-sparse,
namespace PINECONE_NAMESPACE, default "default") and search reads from there; create the
indexes once with \`hindsight history init-index\`.`;

export const EVAL_HISTORY_HELP = `hindsight eval-history DIR [--limit K] [--backend sqlite|postgres|pinecone] [--format text|json]

Scores similar-incident search on a labelled history set: DIR/corpus/ (past post-mortems, any
importable format), DIR/queries/ (new incidents, same formats) and DIR/labels.json:
  { "queries": { "queries/q001.md": ["corpus/a.md"], ... } }
(paths relative to DIR: for each query, the past post-mortems that describe the same failure).
Imports the corpus into a temporary in-memory store and prints recall@1, recall@5 and MRR.
--backend postgres imports it into a throwaway schema of HINDSIGHT_DATABASE_URL's database
(dropped at the end) and queries it there. --backend pinecone upserts the corpus to Pinecone
(PINECONE_API_KEY, PINECONE_INDEX; use a dedicated PINECONE_NAMESPACE) and queries it there.`;

function positiveInt(name: string, value: string | boolean | undefined, fallback: number, max = 100): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InputError(`--${name} must be an integer from 1 to ${max} (got "${value}")`);
  return n;
}

function dateFlag(name: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  const d = normalizeDate(String(value));
  if (!d) throw new InputError(`--${name}: not a date: "${value}"`);
  return d;
}

function resultLines(results: readonly SimilarPast[]): string[] {
  if (results.length === 0) return ['No similar past incident.'];
  return results.flatMap((r, i) => [
    `${i + 1}. ${r.incident.id}  ${r.score.toFixed(2)}  ${r.incident.title}${r.incident.date ? `  (${r.incident.date.slice(0, 10)})` : ''}`,
    ...r.why_similar.map((w) => `     - ${w}`),
  ]);
}

export function resultJson(r: SimilarPast) {
  const p = r.incident;
  return {
    id: p.id,
    title: p.title,
    date: p.date,
    services: p.services,
    severity: p.severity,
    score: r.score,
    why_similar: r.why_similar,
    root_cause: p.root_cause.slice(0, 600),
    open_action_items: p.action_items.filter((a) => a.status !== 'done').map((a) => ({ title: a.title, status: a.status, ticket: a.ticket?.key ?? null, url: a.ticket?.url ?? null })),
    ...(p.url ? { url: p.url } : {}),
  };
}

async function pinecone(): Promise<PineconeHistory | null> {
  const { pineconeSettings, PineconeHistory } = await import('./pinecone.js');
  const settings = pineconeSettings(process.env);
  return settings ? new PineconeHistory(settings) : null;
}

export async function cmdHistory(argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    out(HISTORY_HELP);
    return sub ? 0 : 2;
  }
  const store = (): IncidentStore => IncidentStore.open(hindsightHome());
  switch (sub) {
    case 'import': {
      const { values, positionals } = parseFlags(rest, { format: { type: 'string' } }, true);
      if (values.help) return (out(HISTORY_HELP), 0);
      const format = oneOf('format', values.format as string | undefined, ['text', 'json'] as const, 'text');
      if (positionals.length === 0) throw new InputError('history import needs at least one file or directory');
      const s = store();
      try {
        const started = performance.now();
        const history = historyOf(s);
        const summary = await importPathsInto(history, positionals);
        const seconds = (performance.now() - started) / 1000;
        const failed = summary.failed.map((f) => ({ path: f.path, problem: redactSecrets(f.problem) }));
        if (format === 'json') out(JSON.stringify({ ...summary, failed, seconds: Number(seconds.toFixed(3)) }, null, 2));
        else {
          for (const f of failed) process.stderr.write(`hindsight: skipped ${f.path}: ${f.problem}\n`);
          out(`imported ${summary.imported}, updated ${summary.updated}, unchanged ${summary.unchanged}, failed ${failed.length} (${summary.files} files; ${await history.count()} past incidents in the history)`);
        }
        return failed.length ? 1 : 0;
      } finally {
        s.close();
      }
    }
    case 'search': {
      const { values, positionals } = parseFlags(
        rest,
        { incident: { type: 'string' }, service: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, severity: { type: 'string' }, limit: { type: 'string' }, format: { type: 'string' } },
        true,
      );
      if (values.help) return (out(HISTORY_HELP), 0);
      const format = oneOf('format', values.format as string | undefined, ['text', 'json'] as const, 'text');
      const text = positionals.join(' ').trim();
      if (!text && !values.incident) throw new InputError('history search needs a text or --incident ID');
      if (values.severity !== undefined && !normalizeSeverity(String(values.severity))) throw new InputError(`--severity: not a severity: "${values.severity}"`);
      const filter: HistoryFilter = {
        service: values.service as string | undefined,
        from: dateFlag('from', values.from),
        to: dateFlag('to', values.to),
        severity: values.severity as string | undefined,
      };
      const s = store();
      try {
        const limit = positiveInt('limit', values.limit, 5, 50);
        const results = await searchConfiguredHistory(s, { query: text || undefined, incidentId: values.incident as string | undefined, filter, limit });
        // imported post-mortems are other people's text: secrets never leave the process
        out(format === 'json' ? JSON.stringify(new Redactor().redactDeep({ query: text, incident_id: values.incident ?? null, results: results.map(resultJson) }), null, 2) : redactSecrets(resultLines(results).join('\n')));
        return 0;
      } catch (err) {
        if (err instanceof UnknownIncidentError) throw new InputError(err.message);
        throw err;
      } finally {
        s.close();
      }
    }
    case 'show': {
      const { values, positionals } = parseFlags(rest, { format: { type: 'string' } }, true);
      if (values.help) return (out(HISTORY_HELP), 0);
      const id = positionals[0];
      if (!id) throw new InputError('history show needs an incident id');
      const s = store();
      try {
        const p = await historyOf(s).get(id);
        if (!p) throw new InputError(`unknown past incident "${id}"`);
        const { body: _body, ...shown } = p;
        out(JSON.stringify(new Redactor().redactDeep(shown), null, 2));
        return 0;
      } finally {
        s.close();
      }
    }
    case 'init-index': {
      const { values } = parseFlags(rest, {});
      if (values.help) return (out(HISTORY_HELP), 0);
      const remote = await pinecone();
      if (!remote) throw new InputError('history init-index creates Pinecone indexes: set PINECONE_API_KEY (and PINECONE_INDEX, PINECONE_NAMESPACE)');
      const r = await remote.initIndex();
      out([...r.created.map((n) => `created ${n}`), ...r.existing.map((n) => `exists  ${n}`)].join('\n'));
      return 0;
    }
    case 'list': {
      const { values } = parseFlags(rest, { limit: { type: 'string' } });
      if (values.help) return (out(HISTORY_HELP), 0);
      const s = store();
      try {
        const rows = await historyOf(s).list(positiveInt('limit', values.limit, 50, 10_000));
        out(rows.length ? rows.map((r) => `${r.id}  ${r.date?.slice(0, 10) ?? '----------'}  ${r.severity ?? '    '}  ${r.title}`).join('\n') : 'No past incidents: import some with `hindsight history import PATH`.');
        return 0;
      } finally {
        s.close();
      }
    }
    default:
      throw new InputError(`unknown history command "${sub}" (import, search, show, list, init-index)`);
  }
}

export interface HistoryEvalResult {
  queries: number;
  corpus: number;
  recall_at_1: number;
  recall_at_5: number;
  mrr: number;
  misses: Array<{ query: string; expected: string[]; got: string[] }>;
}

/** Another history to score instead of the in-memory SQLite one: the corpus is upserted to it, the queries asked of it. */
export interface EvalTarget {
  upsert(incidents: readonly PastIncident[]): Promise<unknown>;
  search(query: HistoryQuery, filter: HistoryFilter, limit: number): Promise<SimilarPast[]>;
}

/** A Postgres history as an eval target (content hashes from the incidents themselves). */
export function postgresEvalTarget(db: import('./postgresIndex.js').PostgresHistory): EvalTarget {
  return {
    upsert: (incidents) => db.upsertMany(incidents.map((incident) => ({ incident, contentHash: contentHash(JSON.stringify(incident)), source: null }))),
    search: (query, filter, limit) => db.search(query, filter, limit),
  };
}

/** Imports DIR/corpus into an in-memory store (and the target when given) and scores every labelled query. */
export async function evalHistory(dir: string, k = 5, remote: EvalTarget | null = null): Promise<HistoryEvalResult> {
  const labelsPath = join(dir, 'labels.json');
  if (!existsSync(labelsPath)) throw new InputError(`${labelsPath}: no such file (see hindsight eval-history --help)`);
  let labels: Record<string, string[]>;
  try {
    const raw = JSON.parse(readFileSync(labelsPath, 'utf8')) as { queries?: unknown };
    if (!raw.queries || typeof raw.queries !== 'object' || Array.isArray(raw.queries)) throw new Error('queries: expected an object of query path -> relevant paths');
    labels = raw.queries as Record<string, string[]>;
    for (const [q, rel] of Object.entries(labels)) if (!Array.isArray(rel) || rel.length === 0) throw new Error(`queries.${q}: expected a non-empty array of paths`);
  } catch (err) {
    throw new InputError(`${labelsPath}: ${(err as Error).message}`);
  }
  const store = new IncidentStore(':memory:');
  try {
    const idsOfPath = new Map<string, string[]>();
    const corpusDir = join(dir, 'corpus');
    const problems: Array<{ path: string; problem: string }> = [];
    for (const file of postmortemFiles([corpusDir], problems)) {
      const summary = importPaths(store.history, [file]);
      problems.push(...summary.failed);
      idsOfPath.set(relative(dir, file), summary.ids);
    }
    if (problems.length) throw new InputError(`${problems[0]!.path}: ${problems[0]!.problem}`);
    if (remote) await remote.upsert([...idsOfPath.values()].flat().map((id) => store.history.get(id)!));
    let r1 = 0;
    let rk = 0;
    let rr = 0;
    const misses: HistoryEvalResult['misses'] = [];
    for (const [queryPath, relevantPaths] of Object.entries(labels)) {
      const file = resolve(dir, queryPath);
      if (!existsSync(file)) throw new InputError(`${labelsPath}: queries.${queryPath}: no such file`);
      const relevant = new Set(relevantPaths.flatMap((p) => {
        const ids = idsOfPath.get(p);
        if (!ids) throw new InputError(`${labelsPath}: queries.${queryPath}: ${p} is not in the corpus`);
        return ids;
      }));
      const [incident] = parsePostmortem(file, readFileSync(file, 'utf8'));
      const query = store.history.queryFromIncident(incident!);
      const results = remote ? await remote.search(query, {}, Math.max(k, 10)) : store.history.search(query, {}, Math.max(k, 10));
      const ids = results.map((r) => r.incident.id);
      const first = ids.findIndex((id) => relevant.has(id));
      const found = (n: number) => ids.slice(0, n).filter((id) => relevant.has(id)).length / relevant.size;
      r1 += found(1);
      rk += found(k);
      if (first >= 0) rr += 1 / (first + 1);
      if (first !== 0) misses.push({ query: queryPath, expected: relevantPaths, got: ids.slice(0, 3) });
    }
    const n = Object.keys(labels).length;
    const round = (x: number) => Number((x / n).toFixed(4));
    return { queries: n, corpus: store.history.count(), recall_at_1: round(r1), recall_at_5: round(rk), mrr: round(rr), misses };
  } finally {
    store.close();
  }
}

export async function cmdEvalHistory(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parseFlags(argv, { format: { type: 'string' }, limit: { type: 'string' }, verbose: { type: 'boolean' }, backend: { type: 'string' } }, true);
  if (values.help) return (out(EVAL_HISTORY_HELP), 0);
  const dir = positionals[0];
  if (!dir) throw new InputError('eval-history needs a directory: hindsight eval-history DIR');
  if (!existsSync(dir)) throw new InputError(`${dir}: no such directory`);
  const format = oneOf('format', values.format as string | undefined, ['text', 'json'] as const, 'text');
  const backend = oneOf('backend', values.backend as string | undefined, ['sqlite', 'postgres', 'pinecone'] as const, 'sqlite');
  const limit = positiveInt('limit', values.limit, 5, 50);
  let result: HistoryEvalResult;
  if (backend === 'postgres') {
    const url = process.env.HINDSIGHT_DATABASE_URL?.trim();
    if (!url || !/^postgres(ql)?:\/\//i.test(url)) throw new InputError('--backend postgres needs HINDSIGHT_DATABASE_URL=postgres://…');
    const { PostgresHistory } = await import('./postgresIndex.js');
    const db = new PostgresHistory({ url, schema: `hindsight_eval_${contentHash(`${process.pid}:${Date.now()}:${Math.random()}`).slice(0, 12)}` });
    try {
      result = await evalHistory(dir, limit, postgresEvalTarget(db));
    } finally {
      await db.dropSchema().catch(() => {});
      await db.close();
    }
  } else {
    const remote = backend === 'pinecone' ? await pinecone() : null;
    if (backend === 'pinecone' && !remote) throw new InputError('--backend pinecone needs PINECONE_API_KEY');
    result = await evalHistory(dir, limit, remote);
  }
  if (format === 'json') out(JSON.stringify(result, null, 2));
  else {
    if (values.verbose) for (const m of result.misses) out(`miss ${m.query}: expected ${m.expected.join(', ')}; got ${m.got.join(', ') || 'nothing'}`);
    out(`queries: ${result.queries}; past incidents: ${result.corpus}`);
    out(`recall@1: ${result.recall_at_1.toFixed(3)}  recall@5: ${result.recall_at_5.toFixed(3)}  MRR: ${result.mrr.toFixed(3)}`);
  }
  return 0;
}
