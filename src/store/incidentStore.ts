// The local store (SQLite under HINDSIGHT_HOME): bundles keyed by incident id, the reports made
// from them, and a full-text index of past reports for search_past_rcas (FTS5, BM25 ranking).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '../core/bundle.js';
import { isInstructionLike, WITHHELD_MARKER, withholdText } from '../core/instructions.js';
import type { Report } from '../core/report.js';
import { attachHistory, closeHistory, configuredHistory, shareReported } from '../history/backend.js';
import { contentHash } from '../history/import.js';
import { pastFromReport } from '../history/json.js';
import { HistoryIndex } from '../history/sqliteIndex.js';

export function hindsightHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HINDSIGHT_HOME && env.HINDSIGHT_HOME.trim() !== '' ? env.HINDSIGHT_HOME : join(homedir(), '.hindsight');
}

export interface StoredIncident {
  id: string;
  title: string;
  service: string | null;
  createdAt: string;
  storedAt: string;
}

export interface PastRcaHit {
  id: string;
  title: string;
  service: string | null;
  rootCause: string;
  score: number;
  snippet: string;
}

export class IncidentStore {
  private readonly db: Database.Database;
  /** past incidents (imported post-mortems and the reports stored here) for similar-incident search */
  readonly history: HistoryIndex;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(join(path, '..'), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS incidents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        service TEXT,
        created_at TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        bundle_json TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS reports (
        incident_id TEXT PRIMARY KEY,
        report_json TEXT NOT NULL,
        markdown TEXT NOT NULL,
        stored_at TEXT NOT NULL
      );
      CREATE VIRTUAL TABLE IF NOT EXISTS report_search USING fts5(
        incident_id UNINDEXED, title, service, root_cause, body, tokenize = 'porter unicode61'
      );
    `);
    this.history = new HistoryIndex(this.db);
  }

  /** The user's store; its history is the configured one (Postgres, Pinecone) when set, else its own. */
  static open(home: string = hindsightHome(), env: NodeJS.ProcessEnv = process.env): IncidentStore {
    mkdirSync(home, { recursive: true });
    const store = new IncidentStore(join(home, 'hindsight.db'));
    const shared = configuredHistory(store.history, env);
    if (shared) attachHistory(store, shared);
    return store;
  }

  close(): void {
    this.db.close();
    void closeHistory(this);
  }

  saveBundle(bundle: Bundle, now: Date = new Date()): StoredIncident {
    const inc = bundle.incident;
    const row: StoredIncident = {
      id: inc.id,
      title: inc.title ?? inc.id,
      service: inc.service ?? null,
      createdAt: inc.created_at,
      storedAt: now.toISOString(),
    };
    this.db
      .prepare(
        `INSERT INTO incidents (id, title, service, created_at, stored_at, bundle_json) VALUES (@id, @title, @service, @createdAt, @storedAt, @bundle)
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, service = excluded.service, created_at = excluded.created_at,
           stored_at = excluded.stored_at, bundle_json = excluded.bundle_json`,
      )
      .run({ ...row, bundle: JSON.stringify(bundle) });
    return row;
  }

  getBundle(id: string): Bundle | null {
    const row = this.db.prepare('SELECT bundle_json FROM incidents WHERE id = ?').get(id) as { bundle_json: string } | undefined;
    return row ? (JSON.parse(row.bundle_json) as Bundle) : null;
  }

  /** Size in bytes of a stored bundle's JSON, without reading it; null for an unknown incident. */
  bundleBytes(id: string): number | null {
    const row = this.db.prepare('SELECT octet_length(bundle_json) AS n FROM incidents WHERE id = ?').get(id) as { n: number } | undefined;
    return row ? row.n : null;
  }

  listIncidents(limit = 100): StoredIncident[] {
    return this.db
      .prepare('SELECT id, title, service, created_at AS createdAt, stored_at AS storedAt FROM incidents ORDER BY created_at DESC LIMIT ?')
      .all(limit) as StoredIncident[];
  }

  saveReport(report: Report, markdown: string, now: Date = new Date()): void {
    const body = [
      report.summary,
      report.impact,
      ...report.five_whys.map((w) => `${w.why} ${w.because}`),
      ...report.action_items.map((a) => `${a.title} ${a.rationale}`),
      ...report.log_signatures.map((s) => s.template),
    ].join('\n');
    const save = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO reports (incident_id, report_json, markdown, stored_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(incident_id) DO UPDATE SET report_json = excluded.report_json, markdown = excluded.markdown, stored_at = excluded.stored_at`,
        )
        .run(report.incident.id, JSON.stringify(report), markdown, now.toISOString());
      this.db.prepare('DELETE FROM report_search WHERE incident_id = ?').run(report.incident.id);
      this.db
        .prepare('INSERT INTO report_search (incident_id, title, service, root_cause, body) VALUES (?, ?, ?, ?, ?)')
        .run(report.incident.id, report.incident.title, report.incident.service ?? '', report.root_cause, body);
    });
    save();
    this.rememberReport(report, now);
  }

  /** Adds a report to the history that similar-incident search reads (idempotent by content). */
  rememberReport(report: Report, now: Date = new Date()): void {
    const { similar_incidents: _similar, seen_before: _seen, ...content } = report;
    const item = { incident: pastFromReport(report), contentHash: contentHash(JSON.stringify(content)), source: 'hindsight' };
    this.history.upsert(item.incident, item.contentHash, item.source, now);
    shareReported(this, item, now);
  }

  getReport(id: string): { report: Report; markdown: string } | null {
    const row = this.db.prepare('SELECT report_json, markdown FROM reports WHERE incident_id = ?').get(id) as
      | { report_json: string; markdown: string }
      | undefined;
    return row ? { report: JSON.parse(row.report_json) as Report, markdown: row.markdown } : null;
  }

  /** BM25 over stored reports. Free text in, any-term match; score in (0, 1], higher is better. */
  searchReports(query: string, limit = 5, excludeId?: string): PastRcaHit[] {
    const terms = [...new Set((query.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? []).slice(0, 40))];
    if (terms.length === 0) return [];
    const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');
    const rows = this.db
      .prepare(
        `SELECT incident_id AS id, title, service, root_cause AS rootCause, body,
                bm25(report_search, 0.0, 3.0, 2.0, 4.0, 1.0) AS rank,
                snippet(report_search, 3, '**', '**', '…', 16) AS snippet
         FROM report_search WHERE report_search MATCH ? ORDER BY rank LIMIT ?`,
      )
      .all(match, limit + (excludeId ? 1 : 0)) as Array<{ id: string; title: string; service: string; rootCause: string; body: string; rank: number; snippet: string }>;
    // BM25 orders the hits; its raw value is not comparable across corpora (with a handful of
    // reports idf is ~0), so the score users see blends relative BM25 with query-term coverage.
    const best = Math.min(...rows.map((r) => r.rank), -1e-9);
    return rows
      .filter((r) => r.id !== excludeId)
      .slice(0, limit)
      .map((r) => {
        const text = `${r.title} ${r.service} ${r.rootCause} ${r.body}`.toLowerCase();
        const coverage = terms.filter((t) => text.includes(t)).length / terms.length;
        return {
          id: r.id,
          // reports stored before instruction-like text was withheld may still quote it
          title: withholdText(r.title),
          service: r.service || null,
          rootCause: withholdText(r.rootCause),
          score: Number((0.5 * coverage + 0.5 * Math.min(1, r.rank / best)).toFixed(3)),
          snippet: isInstructionLike(r.snippet.replace(/\*\*/g, '')) ? WITHHELD_MARKER : r.snippet,
        };
      });
  }
}
