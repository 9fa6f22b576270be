// The embedded history index (SQLite, in the same database as the incident store): past incidents,
// their features as postings for candidate generation, and an FTS5 table for BM25.
import type Database from 'better-sqlite3';
import { rankCandidates, type Candidate, type FeatureSet, type Rarity } from './rank.js';
import { bodyText, documentTerms, featureRarity, featuresOf, filterValues, postings, queryFromIncident, queryFromText, rankText, searchTerms, selectTerms, type HistoryQuery } from './query.js';
import type { HistoryFilter, PastIncident, SimilarPast } from './types.js';

export { searchTerms, type HistoryQuery };

export type UpsertResult = 'imported' | 'updated' | 'unchanged';

interface Row {
  id: string;
  features_json: string;
  fts_text: string;
}

export class HistoryIndex {
  private servicesCache: Set<string> | null = null;
  private countCache: number | null = null;

  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS past_incidents (
        id TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        source TEXT,
        title TEXT NOT NULL,
        date TEXT,
        severity TEXT,
        services TEXT NOT NULL,
        features_json TEXT NOT NULL,
        record_json TEXT NOT NULL,
        fts_text TEXT NOT NULL,
        imported_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS past_incidents_hash ON past_incidents(content_hash);
      CREATE INDEX IF NOT EXISTS past_incidents_date ON past_incidents(date);
      CREATE TABLE IF NOT EXISTS past_features (
        kind TEXT NOT NULL, value TEXT NOT NULL, incident_id TEXT NOT NULL,
        PRIMARY KEY (kind, value, incident_id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS past_features_incident ON past_features(incident_id);
      CREATE VIRTUAL TABLE IF NOT EXISTS past_search USING fts5(
        incident_id UNINDEXED, title, services, root_cause, body, tokenize = 'porter unicode61'
      );
      CREATE TABLE IF NOT EXISTS past_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
    `);
  }

  /** The query terms worth a BM25 pass (see selectTerms), with document counts from past_terms. */
  private selectTerms(terms: string[]): string[] {
    if (terms.length <= 1) return terms;
    const dfOf = this.db.prepare('SELECT df FROM past_terms WHERE term = ?');
    return selectTerms(terms, new Map(terms.map((t) => [t, (dfOf.get(t) as { df: number } | undefined)?.df ?? 0])));
  }

  private countTerms(p: PastIncident, delta: 1 | -1): void {
    const stmt =
      delta > 0
        ? this.db.prepare('INSERT INTO past_terms (term, df) VALUES (?, 1) ON CONFLICT(term) DO UPDATE SET df = df + 1')
        : this.db.prepare('UPDATE past_terms SET df = df - 1 WHERE term = ?');
    for (const t of documentTerms(p)) stmt.run(t);
  }

  /** Runs fn in one transaction (many upserts then cost one commit). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  hasContent(hash: string): boolean {
    return this.db.prepare('SELECT 1 FROM past_incidents WHERE content_hash = ? LIMIT 1').get(hash) !== undefined;
  }

  /** Stores or replaces a past incident; the same content twice is a no-op. */
  upsert(p: PastIncident, contentHash: string, source: string | null, now: Date = new Date()): UpsertResult {
    const existing = this.db.prepare('SELECT content_hash FROM past_incidents WHERE id = ?').get(p.id) as { content_hash: string } | undefined;
    if (existing?.content_hash === contentHash) return 'unchanged';
    const features = featuresOf(p);
    const ftsText = rankText(p);
    const write = this.db.transaction(() => {
      if (existing) this.remove(p.id);
      this.countTerms(p, 1);
      this.db
        .prepare(
          `INSERT INTO past_incidents (id, content_hash, source, title, date, severity, services, features_json, record_json, fts_text, imported_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(p.id, contentHash, source, p.title, p.date, p.severity, ` ${p.services.join(' ')} `, JSON.stringify(features), JSON.stringify(p), ftsText, now.toISOString());
      const post = this.db.prepare('INSERT OR IGNORE INTO past_features (kind, value, incident_id) VALUES (?, ?, ?)');
      for (const [kind, value] of postings(features)) post.run(kind, value, p.id);
      for (const s of p.services) post.run('service', s, p.id);
      const body = bodyText(p);
      this.db.prepare('INSERT INTO past_search (incident_id, title, services, root_cause, body) VALUES (?, ?, ?, ?, ?)').run(p.id, p.title, p.services.join(' '), p.root_cause, body);
    });
    write();
    this.countCache = null;
    if (p.services.some((s) => !this.servicesCache?.has(s))) this.servicesCache = null;
    return existing ? 'updated' : 'imported';
  }

  private remove(id: string): void {
    const old = this.get(id);
    if (old) this.countTerms(old, -1);
    this.db.prepare('DELETE FROM past_incidents WHERE id = ?').run(id);
    this.db.prepare('DELETE FROM past_features WHERE incident_id = ?').run(id);
    this.db.prepare('DELETE FROM past_search WHERE incident_id = ?').run(id);
  }

  get(id: string): PastIncident | null {
    const row = this.db.prepare('SELECT record_json FROM past_incidents WHERE id = ?').get(id) as { record_json: string } | undefined;
    return row ? (JSON.parse(row.record_json) as PastIncident) : null;
  }

  count(): number {
    this.countCache ??= (this.db.prepare('SELECT count(*) AS n FROM past_incidents').get() as { n: number }).n;
    return this.countCache;
  }

  list(limit = 50, offset = 0): Array<Pick<PastIncident, 'id' | 'title' | 'date' | 'severity'>> {
    return this.db.prepare('SELECT id, title, date, severity FROM past_incidents ORDER BY date DESC, id LIMIT ? OFFSET ?').all(limit, offset) as never;
  }

  /** Every service name the history knows, to recognise one in a free-text query. */
  knownServices(): Set<string> {
    if (!this.servicesCache) {
      const rows = this.db.prepare("SELECT DISTINCT value FROM past_features WHERE kind = 'service'").all() as Array<{ value: string }>;
      this.servicesCache = new Set(rows.map((r) => r.value));
    }
    return this.servicesCache;
  }

  /** A free-text query's features: error signatures, names, failure modes, services the history knows. */
  queryFromText(text: string): HistoryQuery {
    return queryFromText(text, this.knownServices());
  }

  queryFromIncident(p: PastIncident): HistoryQuery {
    return queryFromIncident(p);
  }

  /** IDF of the query's own names and signatures, normalised to [0.1, 1] (others count as rare). */
  private rarity(posts: Array<[string, string]>): Rarity {
    const total = Math.max(2, this.count());
    const df = this.db.prepare('SELECT count(*) AS n FROM past_features WHERE kind = ? AND value = ?');
    const weights = new Map<string, number>();
    for (const [kind, value] of posts.slice(0, 60)) {
      weights.set(`${kind}\u0000${value}`, featureRarity(total, (df.get(kind, value) as { n: number }).n));
    }
    return (kind, value) => weights.get(`${kind}\u0000${value}`) ?? 1;
  }

  search(query: HistoryQuery, filter: HistoryFilter = {}, limit = 5): SimilarPast[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const f = filterValues(filter);
    if (f.service) {
      where.push('p.services LIKE ?');
      params.push(`% ${f.service.replace(/[%_]/g, '')} %`);
    }
    if (f.from) {
      where.push('p.date >= ?');
      params.push(f.from);
    }
    if (f.to) {
      where.push('p.date <= ?');
      params.push(f.to);
    }
    if (f.severity) {
      where.push('p.severity = ?');
      params.push(f.severity);
    }
    if (query.excludeId) {
      where.push('p.id <> ?');
      params.push(query.excludeId);
    }
    const extra = where.length ? ` AND ${where.join(' AND ')}` : '';
    const pool = Math.max(50, limit * 10);

    const terms = searchTerms(query.text);
    const textTerms = this.selectTerms(terms);
    const candidates = new Map<string, Candidate>();
    const add = (row: Row, bm25: number | null) => {
      const prev = candidates.get(row.id);
      if (prev) {
        if (bm25 !== null) prev.bm25 = bm25;
        return;
      }
      candidates.set(row.id, { id: row.id, features: JSON.parse(row.features_json) as FeatureSet, bm25, text: row.fts_text });
    };
    if (textTerms.length) {
      const match = textTerms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');
      const rows = this.db
        .prepare(
          `SELECT p.id, p.features_json, p.fts_text, bm25(past_search, 0.0, 3.0, 2.0, 4.0, 1.0) AS rank
           FROM past_search JOIN past_incidents p ON p.id = past_search.incident_id
           WHERE past_search MATCH ?${extra} ORDER BY rank LIMIT ?`,
        )
        .all(match, ...params, pool) as Array<Row & { rank: number }>;
      for (const r of rows) add(r, r.rank);
    }
    const posts = postings(query.features);
    if (posts.length) {
      const byFeature = this.db.prepare(
        `SELECT p.id, p.features_json, p.fts_text FROM past_features f JOIN past_incidents p ON p.id = f.incident_id
         WHERE f.kind = ? AND f.value = ?${extra} LIMIT 200`,
      );
      for (const [kind, value] of posts.slice(0, 60)) for (const r of byFeature.all(kind, value, ...params) as Row[]) add(r, null);
    }
    const ranked = rankCandidates(query.features, query.text, terms, [...candidates.values()], limit, this.rarity(posts));
    return ranked.flatMap((r) => {
      const incident = this.get(r.id);
      return incident ? [{ incident, score: r.score, why_similar: r.why_similar }] : [];
    });
  }
}
