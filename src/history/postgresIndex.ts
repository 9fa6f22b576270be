// The history in PostgreSQL, used when HINDSIGHT_DATABASE_URL is a postgres:// URL, so every
// replica searches the same memory. Same behaviour as the SQLite index: one row per incident id
// (the same content again is a no-op), full-text search, the same feature postings, and the same
// pure fused ranking (rank.ts), so why_similar reads the same. Full text: a generated tsvector
// column (one weight label per column) with a GIN index finds the matching documents, and their
// BM25 is computed here exactly as SQLite FTS5 computes it (same columns, weights, k1, b, IDF), from
// the positions the tsvector holds; text is split into words as FTS5's unicode61 tokenizer does
// before Postgres sees it, and stemmed without a stop-word list, so both count the same tokens.
// Its tables live in their own schema (hindsight_history) with their own version table.
import pg from 'pg';
import { rankCandidates, type Candidate, type FeatureSet, type Rarity } from './rank.js';
import {
  bodyText,
  documentTerms,
  featureRarity,
  featuresOf,
  filterValues,
  postings,
  queryFromIncident,
  queryFromText,
  rankText,
  searchTerms,
  selectTerms,
  type HistoryQuery,
} from './query.js';
import type { UpsertResult } from './sqliteIndex.js';
import type { HistoryFilter, PastIncident, SimilarPast } from './types.js';

export const HISTORY_SCHEMA = 'hindsight_history';

/** tsvector holds at most 1 MB; the long tail of a document adds nothing to ranking */
const MAX_BODY_CHARS = 200_000;
/** The FTS5 columns as tokens (title, services, root cause, body) and their total token count. */
function searchColumns(p: PastIncident): [string, string, string, string, number] {
  const cols = [p.title, p.services.join(' '), p.root_cause, bodyText(p).slice(0, MAX_BODY_CHARS)].map(tokens);
  return [cols[0]!.join(' '), cols[1]!.join(' '), cols[2]!.join(' '), cols[3]!.join(' '), cols.reduce((n, c) => n + c.length, 0)];
}

/** rows per multi-row INSERT (at most 11 parameters each, far below the 65,535 limit) */
const INSERT_CHUNK = 200;

/** A postgres:// URL from HINDSIGHT_DATABASE_URL, or null when the history stays in SQLite. */
export function historyDatabaseUrl(env: NodeJS.ProcessEnv): string | null {
  const url = env.HINDSIGHT_DATABASE_URL?.trim();
  return url && /^postgres(ql)?:\/\//i.test(url) ? url : null;
}

interface Migration {
  version: number;
  name: string;
  sql: (schema: string) => string;
}

/** Versioned and append-only: a released migration is never edited, a new one is added. */
export const HISTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'past incidents, feature postings, full-text search',
    sql: (s) => `
      CREATE TEXT SEARCH DICTIONARY ${s}.english_all (TEMPLATE = snowball, Language = english);
      CREATE TEXT SEARCH CONFIGURATION ${s}.words (COPY = pg_catalog.english);
      ALTER TEXT SEARCH CONFIGURATION ${s}.words ALTER MAPPING FOR asciiword, word, asciihword, hword, hword_asciipart, hword_part WITH ${s}.english_all;
      CREATE TABLE ${s}.incidents (
        id text PRIMARY KEY,
        content_hash text NOT NULL,
        source text,
        title text NOT NULL,
        date text,
        severity text,
        services text[] NOT NULL,
        features_json text NOT NULL,
        record_json text NOT NULL,
        rank_text text NOT NULL,
        imported_at timestamptz NOT NULL
      );
      -- full text apart from the records, so a scan of matching documents reads narrow rows
      CREATE TABLE ${s}.documents (
        id text PRIMARY KEY REFERENCES ${s}.incidents (id) ON DELETE CASCADE,
        search_title text NOT NULL,
        search_services text NOT NULL,
        search_root_cause text NOT NULL,
        search_body text NOT NULL,
        -- tokens in the four FTS5 columns, as FTS5 counts a row's size for BM25
        doc_len integer NOT NULL,
        -- the weight label says the column: root cause A, title B, services C, body D
        tsv tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('${s}.words', search_root_cause), 'A') ||
          setweight(to_tsvector('${s}.words', search_title), 'B') ||
          setweight(to_tsvector('${s}.words', search_services), 'C') ||
          setweight(to_tsvector('${s}.words', search_body), 'D')
        ) STORED
      );
      -- the long body text is moved out of line first; the tsvector stays in the row
      ALTER TABLE ${s}.documents ALTER COLUMN search_body SET STORAGE EXTERNAL;
      ALTER TABLE ${s}.documents ALTER COLUMN tsv SET STORAGE MAIN;
      CREATE INDEX documents_tsv ON ${s}.documents USING gin (tsv);
      -- BM25's document count and average length without a scan, kept by every write
      CREATE TABLE ${s}.stats (one boolean PRIMARY KEY DEFAULT true CHECK (one), documents bigint NOT NULL, tokens bigint NOT NULL);
      INSERT INTO ${s}.stats (documents, tokens) VALUES (0, 0);
      CREATE INDEX incidents_hash ON ${s}.incidents (content_hash);
      CREATE INDEX incidents_date ON ${s}.incidents (date);
      CREATE TABLE ${s}.features (
        kind text NOT NULL, value text NOT NULL,
        incident_id text NOT NULL REFERENCES ${s}.incidents (id) ON DELETE CASCADE,
        PRIMARY KEY (kind, value, incident_id)
      );
      CREATE INDEX features_incident ON ${s}.features (incident_id);
      CREATE TABLE ${s}.terms (term text PRIMARY KEY, df integer NOT NULL);
      CREATE TABLE ${s}.services (name text PRIMARY KEY);
    `,
  },
];

/** FTS5's bm25() column weights as in sqliteIndex.ts (title 3, services 2, root cause 4, body 1), by weight label */
const COLUMN_WEIGHT: Record<string, number> = { A: 4, B: 3, C: 2, D: 1 };
const BM25_K1 = 1.2;
const BM25_B = 0.75;

/** A text as FTS5's unicode61 tokenizer splits it, one space between tokens (positions then match). */
function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}\p{M}\p{Co}]+/gu) ?? [];
}

function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

interface TermHits {
  positions: number[];
  weights: string[];
}

/** Occurrences of a phrase (its lexemes at consecutive positions), each counted with its column weight. */
function phraseFrequency(lexemes: readonly string[], doc: ReadonlyMap<string, TermHits>): number {
  const first = doc.get(lexemes[0]!);
  if (!first) return 0;
  const rest = lexemes.slice(1).map((l) => new Set(doc.get(l)?.positions ?? []));
  let freq = 0;
  first.positions.forEach((p, i) => {
    if (rest.every((set, j) => set.has(p + j + 1))) freq += COLUMN_WEIGHT[first.weights[i]!] ?? 1;
  });
  return freq;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a valid schema name: "${name}"`);
  return `"${name}"`;
}

interface CandidateRow {
  id: string;
  features_json: string;
  rank_text: string;
}

export interface PostgresHistoryOptions {
  url: string;
  /** Postgres schema holding the tables (tests and eval use a throwaway one) */
  schema?: string;
  /** pool size; searches run up to four queries at once */
  max?: number;
}

export interface UpsertItem {
  incident: PastIncident;
  contentHash: string;
  source: string | null;
}

/** For `hindsight db migrate`: brings the history schema up to date; what it applied and the version now. */
export async function migrateHistoryDatabase(url: string): Promise<{ schema: string; applied: number[]; version: number }> {
  const db = new PostgresHistory({ url, max: 1 });
  try {
    await db.migrate();
    return { schema: db.schema, applied: db.applied, version: await db.schemaVersion() };
  } finally {
    await db.close();
  }
}

export class HistoryDatabaseError extends Error {
  // cli.ts prints a ConfigError as one line (exit 2)
  override name = 'ConfigError';
}

export class PostgresHistory {
  readonly schema: string;
  /** host:port/database, for messages (the URL may hold a password) */
  private readonly where: string;
  private readonly pool: pg.Pool;
  private readonly s: string;
  private migrated: Promise<void> | null = null;

  constructor(options: PostgresHistoryOptions) {
    this.schema = options.schema ?? HISTORY_SCHEMA;
    this.s = quoteIdent(this.schema);
    try {
      const u = new URL(options.url);
      this.where = `${u.hostname}:${u.port || '5432'}${u.pathname}`;
    } catch {
      this.where = 'HINDSIGHT_DATABASE_URL';
    }
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 8,
      application_name: 'hindsight-history',
      connectionTimeoutMillis: 10_000,
      // a CLI run exits as soon as its last query is answered
      allowExitOnIdle: true,
    });
    // an idle connection the server closed must not crash the process; the next query reconnects
    this.pool.on('error', () => {});
    this.pool.on('connect', (c) => c.on('error', () => {}));
  }

  /** Applies the migrations this database lacks, once per process (replicas serialise on an advisory lock). */
  migrate(): Promise<void> {
    this.migrated ??= this.runMigrations().catch((err: Error & { code?: string }) => {
      this.migrated = null;
      // no server, wrong port or host, refused login: one line naming the server, never the URL's password
      // (system error codes start with E, no SQLSTATE class does; 28P01 bad password, 3D000 no such database)
      const unreachable = err.code?.startsWith('E') || err.code === '28P01' || err.code === '3D000' || /timeout|terminated/i.test(err.message);
      if (unreachable) {
        throw new HistoryDatabaseError(`history database ${this.where}: ${err.message.split('\n')[0]}`);
      }
      throw err;
    });
    return this.migrated;
  }

  /** Versions this process applied (empty when another process, or an earlier run, had). */
  applied: number[] = [];

  private async runMigrations(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`hindsight:${this.schema}:migrate`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.s}.history_schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.s}.history_schema_version`);
      const current = rows[0]?.v ?? 0;
      const latest = HISTORY_MIGRATIONS[HISTORY_MIGRATIONS.length - 1]!.version;
      if (current > latest) throw new Error(`the history schema ${this.schema} is at version ${current}, newer than this hindsight knows (${latest}): upgrade hindsight`);
      for (const m of HISTORY_MIGRATIONS.filter((x) => x.version > current)) {
        await client.query(m.sql(this.s));
        await client.query(`INSERT INTO ${this.s}.history_schema_version (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        this.applied.push(m.version);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async schemaVersion(): Promise<number> {
    await this.migrate();
    const { rows } = await this.pool.query<{ v: number }>(`SELECT max(version) AS v FROM ${this.s}.history_schema_version`);
    return rows[0]!.v;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Drops this schema and everything in it (tests and eval-history's throwaway schemas). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.s} CASCADE`);
    this.migrated = null;
  }

  /** Which of these content hashes the history already holds. */
  async knownContent(hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    await this.migrate();
    const { rows } = await this.pool.query<{ content_hash: string }>(`SELECT DISTINCT content_hash FROM ${this.s}.incidents WHERE content_hash = ANY($1::text[])`, [hashes]);
    return new Set(rows.map((r) => r.content_hash));
  }

  async upsert(p: PastIncident, contentHash: string, source: string | null, now: Date = new Date()): Promise<UpsertResult> {
    return (await this.upsertMany([{ incident: p, contentHash, source }], now))[0]!;
  }

  /**
   * Stores or replaces past incidents in one transaction; the same content again is a no-op.
   * Writers of the same id serialise on an advisory lock, and document counts are applied in
   * one sorted statement, so concurrent importers neither lose updates nor deadlock.
   */
  async upsertMany(items: readonly UpsertItem[], now: Date = new Date()): Promise<UpsertResult[]> {
    if (items.length === 0) return [];
    await this.migrate();
    // the same id twice (an edited document in one import) is written in order, as SQLite would
    const groups: UpsertItem[][] = [[]];
    for (const item of items) {
      if (groups.at(-1)!.some((x) => x.incident.id === item.incident.id)) groups.push([]);
      groups.at(-1)!.push(item);
    }
    const out: UpsertResult[] = [];
    for (const group of groups) out.push(...(await this.upsertGroup(group, now)));
    return out;
  }

  private async upsertGroup(items: readonly UpsertItem[], now: Date): Promise<UpsertResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.upsertOnce(items, now);
      } catch (err) {
        // deadlock or serialization failure: the transaction was rolled back whole, so retrying is safe
        const code = (err as { code?: string }).code;
        if ((code !== '40P01' && code !== '40001') || attempt >= 5) throw err;
      }
    }
  }

  private async upsertOnce(items: readonly UpsertItem[], now: Date): Promise<UpsertResult[]> {
    const byId = new Map(items.map((item) => [item.incident.id, item]));
    const ids = [...byId.keys()].sort();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended(id, 1)) FROM (SELECT id FROM unnest($1::text[]) AS id ORDER BY id) AS sorted`, [ids]);
      const { rows } = await client.query<{ id: string; content_hash: string; record_json: string }>(
        `SELECT id, content_hash, record_json FROM ${this.s}.incidents WHERE id = ANY($1::text[])`,
        [ids],
      );
      const existing = new Map(rows.map((r) => [r.id, r]));
      const outcome = new Map<string, UpsertResult>();
      const write: UpsertItem[] = [];
      const df = new Map<string, number>();
      const count = (p: PastIncident, delta: number) => {
        for (const t of documentTerms(p)) df.set(t, (df.get(t) ?? 0) + delta);
      };
      for (const id of ids) {
        const item = byId.get(id)!;
        const old = existing.get(id);
        if (old?.content_hash === item.contentHash) {
          outcome.set(id, 'unchanged');
          continue;
        }
        if (old) count(JSON.parse(old.record_json) as PastIncident, -1);
        count(item.incident, 1);
        outcome.set(id, old ? 'updated' : 'imported');
        write.push(item);
      }
      const replaced = write.map((w) => w.incident.id).filter((id) => existing.has(id));
      let tokens = 0;
      if (replaced.length) {
        const { rows: old } = await client.query<{ n: string | null }>(`SELECT sum(doc_len) AS n FROM ${this.s}.documents WHERE id = ANY($1::text[])`, [replaced]);
        tokens -= Number(old[0]?.n ?? 0);
        await client.query(`DELETE FROM ${this.s}.incidents WHERE id = ANY($1::text[])`, [replaced]);
      }
      for (let i = 0; i < write.length; i += INSERT_CHUNK) tokens += await this.insertRows(client, write.slice(i, i + INSERT_CHUNK), now);
      const kinds: string[] = [];
      const values: string[] = [];
      const owners: string[] = [];
      const services = new Set<string>();
      for (const { incident: p } of write) {
        for (const [kind, value] of postings(featuresOf(p))) kinds.push(kind), values.push(value), owners.push(p.id);
        for (const s of p.services) kinds.push('service'), values.push(s), owners.push(p.id), services.add(s);
      }
      if (kinds.length) {
        await client.query(
          `INSERT INTO ${this.s}.features (kind, value, incident_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
          [kinds, values, owners],
        );
      }
      if (services.size) await client.query(`INSERT INTO ${this.s}.services (name) SELECT * FROM unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING`, [[...services]]);
      const terms = [...df.entries()].filter(([, d]) => d !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (terms.length) {
        await client.query(
          `INSERT INTO ${this.s}.terms AS t (term, df) SELECT term, delta FROM unnest($1::text[], $2::int[]) AS x(term, delta) ORDER BY term
           ON CONFLICT (term) DO UPDATE SET df = t.df + excluded.df`,
          [terms.map(([t]) => t), terms.map(([, d]) => d)],
        );
      }
      if (write.length) await client.query(`UPDATE ${this.s}.stats SET documents = documents + $1, tokens = tokens + $2`, [write.length - replaced.length, tokens]);
      await client.query('COMMIT');
      return items.map((item) => outcome.get(item.incident.id)!);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Inserts incidents and their full-text documents; returns the tokens added. */
  private async insertRows(client: pg.PoolClient, rows: readonly UpsertItem[], now: Date): Promise<number> {
    const params: unknown[] = [];
    const docParams: unknown[] = [];
    let tokens = 0;
    const tuple = (base: number, n: number) => `(${Array.from({ length: n }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    const tuples: string[] = [];
    const docTuples: string[] = [];
    for (const { incident: p, contentHash, source } of rows) {
      tuples.push(tuple(params.length, 11));
      params.push(p.id, contentHash, source, p.title, p.date, p.severity, p.services, JSON.stringify(featuresOf(p)), JSON.stringify(p), rankText(p), now.toISOString());
      const cols = searchColumns(p);
      tokens += cols[4];
      docTuples.push(tuple(docParams.length, 6));
      docParams.push(p.id, ...cols);
    }
    await client.query(
      `INSERT INTO ${this.s}.incidents (id, content_hash, source, title, date, severity, services, features_json, record_json, rank_text, imported_at) VALUES ${tuples.join(', ')}`,
      params,
    );
    await client.query(`INSERT INTO ${this.s}.documents (id, search_title, search_services, search_root_cause, search_body, doc_len) VALUES ${docTuples.join(', ')}`, docParams);
    return tokens;
  }

  async get(id: string): Promise<PastIncident | null> {
    await this.migrate();
    const { rows } = await this.pool.query<{ record_json: string }>(`SELECT record_json FROM ${this.s}.incidents WHERE id = $1`, [id]);
    return rows[0] ? (JSON.parse(rows[0].record_json) as PastIncident) : null;
  }

  async count(): Promise<number> {
    await this.migrate();
    const { rows } = await this.pool.query<{ n: string }>(`SELECT documents AS n FROM ${this.s}.stats`);
    return Number(rows[0]!.n);
  }

  async list(limit = 50, offset = 0): Promise<Array<Pick<PastIncident, 'id' | 'title' | 'date' | 'severity'>>> {
    await this.migrate();
    const { rows } = await this.pool.query(`SELECT id, title, date, severity FROM ${this.s}.incidents ORDER BY date DESC NULLS LAST, id LIMIT $1 OFFSET $2`, [limit, offset]);
    return rows as Array<Pick<PastIncident, 'id' | 'title' | 'date' | 'severity'>>;
  }

  async knownServices(): Promise<Set<string>> {
    await this.migrate();
    const { rows } = await this.pool.query<{ name: string }>(`SELECT name FROM ${this.s}.services`);
    return new Set(rows.map((r) => r.name));
  }

  async queryFromText(text: string): Promise<HistoryQuery> {
    return queryFromText(text, await this.knownServices());
  }

  queryFromIncident(p: PastIncident): HistoryQuery {
    return queryFromIncident(p);
  }

  private async rarity(posts: Array<[string, string]>): Promise<Rarity> {
    if (posts.length === 0) return () => 1;
    const { rows } = await this.pool.query<{ total: string; counts: string[] }>(
      `SELECT (SELECT documents FROM ${this.s}.stats) AS total,
              ARRAY(SELECT (SELECT count(*) FROM ${this.s}.features f WHERE f.kind = q.kind AND f.value = q.value)
                    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(kind, value, i) ORDER BY q.i) AS counts`,
      [posts.map(([k]) => k), posts.map(([, v]) => v)],
    );
    const total = Number(rows[0]!.total);
    const weights = new Map(posts.map(([kind, value], i) => [`${kind}\u0000${value}`, featureRarity(total, Number(rows[0]!.counts[i]))]));
    return (kind, value) => weights.get(`${kind}\u0000${value}`) ?? 1;
  }

  /**
   * The `limit` best documents by FTS5's BM25 for these terms (each a word, or a phrase when it
   * holds '_', as FTS5 reads "max_size"), negated as FTS5 returns it. Documents are found through
   * the GIN index; frequencies come from the tsvector positions, document counts from the index.
   */
  private async bm25(
    terms: readonly string[],
    lexemeOf: ReadonlyMap<string, string>,
    extra: string,
    params: readonly unknown[],
    limit: number,
    excludeId?: string,
  ): Promise<Array<CandidateRow & { rank: number }>> {
    const phrases = terms
      .map((t) => t.split('_').filter(Boolean).map((part) => lexemeOf.get(part)))
      .filter((ls): ls is string[] => ls.length > 0 && ls.every((l) => l !== undefined));
    if (phrases.length === 0) return [];
    const tsqueries = phrases.map((ls) => ls.map(quoteLexeme).join(' <-> '));
    const lexemes = [...new Set(phrases.flat())];
    const n = params.length;
    const [stats, hits] = await Promise.all([
      // FTS5's IDF inputs: documents, average length, and how many documents hold each term
      this.pool.query<{ rows: string; avgdl: number | null; dfs: string[] }>(
        `SELECT s.documents AS rows, s.tokens::float8 / nullif(s.documents, 0) AS avgdl,
           ARRAY(SELECT (SELECT count(*) FROM ${this.s}.documents d WHERE d.tsv @@ t.q) FROM unnest($1::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY t.i) AS dfs
         FROM ${this.s}.stats s`,
        [tsqueries],
      ),
      this.pool.query<{ id: string; doc_len: number; lexeme: string; positions: number[]; weights: string[] }>(
        `SELECT d.id, d.doc_len, u.lexeme, u.positions::int[] AS positions, u.weights
         FROM ${this.s}.documents d${extra ? ` JOIN ${this.s}.incidents p ON p.id = d.id` : ''}
         -- only the query's lexemes: the tsvector less everything else (unnesting it whole costs a row per word)
         CROSS JOIN LATERAL unnest(ts_delete(d.tsv, tsvector_to_array(ts_delete(d.tsv, $${n + 2}::text[])))) AS u
         WHERE d.tsv @@ $${n + 1}::tsquery AND u.lexeme = ANY($${n + 2}::text[])${extra}`,
        [...params, tsqueries.map((q) => `(${q})`).join(' | '), lexemes],
      ),
    ]);
    const rows = Number(stats.rows[0]!.rows);
    const avgdl = stats.rows[0]!.avgdl || 1;
    const idf = new Map<number, number>();
    stats.rows[0]!.dfs.forEach((n, i) => {
      const hit = Number(n);
      const x = Math.log((rows - hit + 0.5) / (hit + 0.5));
      idf.set(i, x <= 0 ? 1e-6 : x);
    });
    const docs = new Map<string, { len: number; terms: Map<string, TermHits> }>();
    for (const h of hits.rows) {
      let d = docs.get(h.id);
      if (!d) docs.set(h.id, (d = { len: h.doc_len, terms: new Map() }));
      d.terms.set(h.lexeme, { positions: h.positions, weights: h.weights });
    }
    const scored: Array<{ id: string; rank: number }> = [];
    for (const [id, d] of docs) {
      let score = 0;
      phrases.forEach((ls, i) => {
        const f = phraseFrequency(ls, d.terms);
        if (f > 0) score += idf.get(i)! * ((f * (BM25_K1 + 1)) / (f + BM25_K1 * (1 - BM25_B + (BM25_B * d.len) / avgdl)));
      });
      if (score > 0 && id !== excludeId) scored.push({ id, rank: -score });
    }
    scored.sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const top = scored.slice(0, limit);
    if (top.length === 0) return [];
    const { rows: found } = await this.pool.query<CandidateRow>(`SELECT id, features_json, rank_text FROM ${this.s}.incidents WHERE id = ANY($1::text[])`, [top.map((t) => t.id)]);
    const byId = new Map(found.map((r) => [r.id, r]));
    return top.flatMap((t) => (byId.has(t.id) ? [{ ...byId.get(t.id)!, rank: t.rank }] : []));
  }

  async search(query: HistoryQuery, filter: HistoryFilter = {}, limit = 5): Promise<SimilarPast[]> {
    await this.migrate();
    const f = filterValues(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (v: unknown) => (params.push(v), `$${params.length}`);
    if (f.service) where.push(`${param(f.service)} = ANY(p.services)`);
    if (f.from) where.push(`p.date >= ${param(f.from)}`);
    if (f.to) where.push(`p.date <= ${param(f.to)}`);
    if (f.severity) where.push(`p.severity = ${param(f.severity)}`);
    // the full-text pass leaves the query's own incident out itself (no join for that alone)
    const textWhere = where.length ? ` AND ${where.join(' AND ')}` : '';
    const textParams = [...params];
    if (query.excludeId) where.push(`p.id <> ${param(query.excludeId)}`);
    const extra = where.length ? ` AND ${where.join(' AND ')}` : '';
    const pool = Math.max(50, limit * 10);

    const terms = searchTerms(query.text);
    const posts = postings(query.features).slice(0, 60);
    const textSearch = async (): Promise<Array<CandidateRow & { rank: number }>> => {
      if (terms.length === 0) return [];
      // one round trip: the terms' document counts, and each word's lexeme as the index stems it
      const parts = [...new Set(terms.flatMap((t) => t.split('_').filter(Boolean)))];
      const { rows } = await this.pool.query<{ dfs: Array<number | null>; lexemes: Array<string | null> }>(
        `SELECT ARRAY(SELECT (SELECT df FROM ${this.s}.terms WHERE term = t) FROM unnest($1::text[]) WITH ORDINALITY AS x(t, i) ORDER BY i) AS dfs,
                ARRAY(SELECT (tsvector_to_array(to_tsvector('${this.s}.words', part)))[1] FROM unnest($2::text[]) WITH ORDINALITY AS y(part, i) ORDER BY i) AS lexemes`,
        [terms, parts],
      );
      const chosen = selectTerms(terms, new Map(terms.map((t, i) => [t, rows[0]!.dfs[i] ?? 0])));
      const lexemeOf = new Map(parts.flatMap((part, i) => (rows[0]!.lexemes[i] ? [[part, rows[0]!.lexemes[i]!] as [string, string]] : [])));
      return chosen.length ? this.bm25(chosen, lexemeOf, textWhere, textParams, pool, query.excludeId) : [];
    };
    const featureSearch = async (): Promise<CandidateRow[]> => {
      if (posts.length === 0) return [];
      const n = params.length;
      const { rows } = await this.pool.query<CandidateRow>(
        `SELECT hit.id, hit.features_json, hit.rank_text FROM unnest($${n + 1}::text[], $${n + 2}::text[]) AS q(kind, value)
         CROSS JOIN LATERAL (
           SELECT p.id, p.features_json, p.rank_text FROM ${this.s}.features f JOIN ${this.s}.incidents p ON p.id = f.incident_id
           WHERE f.kind = q.kind AND f.value = q.value${extra} ORDER BY p.id LIMIT 200
         ) AS hit`,
        [...params, posts.map(([k]) => k), posts.map(([, v]) => v)],
      );
      return rows;
    };
    const [textRows, featureRows, rarity] = await Promise.all([textSearch(), featureSearch(), this.rarity(posts)]);

    const candidates = new Map<string, Candidate>();
    for (const r of textRows) candidates.set(r.id, { id: r.id, features: JSON.parse(r.features_json) as FeatureSet, bm25: r.rank, text: r.rank_text });
    for (const r of featureRows) if (!candidates.has(r.id)) candidates.set(r.id, { id: r.id, features: JSON.parse(r.features_json) as FeatureSet, bm25: null, text: r.rank_text });
    const ranked = rankCandidates(query.features, query.text, terms, [...candidates.values()], limit, rarity);
    if (ranked.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string; record_json: string }>(`SELECT id, record_json FROM ${this.s}.incidents WHERE id = ANY($1::text[])`, [ranked.map((r) => r.id)]);
    const records = new Map(rows.map((r) => [r.id, JSON.parse(r.record_json) as PastIncident]));
    return ranked.flatMap((r) => {
      const incident = records.get(r.id);
      return incident ? [{ incident, score: r.score, why_similar: r.why_similar }] : [];
    });
  }
}
