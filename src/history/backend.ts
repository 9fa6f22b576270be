// Where the history lives for a store: the embedded SQLite index (default), PostgreSQL when
// HINDSIGHT_DATABASE_URL is a postgres:// URL (shared by every replica), or Pinecone when
// PINECONE_API_KEY is set (search at scale; the incidents themselves stay readable locally).
// IncidentStore.open attaches the configured one; search_past_rcas, "Seen before" and the
// `history` commands all go through historyOf(store), so they read the same memory.
import { redactSecrets } from '../core/redact.js';
import type { IncidentStore } from '../store/incidentStore.js';
import { queryFromIncident, type HistoryQuery } from './query.js';
import type { HistoryIndex, UpsertResult } from './sqliteIndex.js';
import type { PostgresHistory, UpsertItem } from './postgresIndex.js';
import type { HistoryFilter, PastIncident, SimilarPast } from './types.js';

export type { UpsertItem } from './postgresIndex.js';

export interface HistoryBackend {
  readonly kind: 'sqlite' | 'postgres' | 'pinecone';
  queryFromText(text: string): Promise<HistoryQuery>;
  queryFromIncident(p: PastIncident): HistoryQuery;
  search(query: HistoryQuery, filter?: HistoryFilter, limit?: number): Promise<SimilarPast[]>;
  get(id: string): Promise<PastIncident | null>;
  count(): Promise<number>;
  list(limit?: number, offset?: number): Promise<Array<Pick<PastIncident, 'id' | 'title' | 'date' | 'severity'>>>;
  /** which of these content hashes are already stored (import skips those files unparsed) */
  knownContent(hashes: readonly string[]): Promise<Set<string>>;
  /** stores or replaces incidents; the same content again is 'unchanged' */
  upsertMany(items: readonly UpsertItem[], now?: Date): Promise<UpsertResult[]>;
  /** a report the store has just saved locally, shared with this history (no-op for SQLite) */
  shareReported(item: UpsertItem, now: Date): Promise<void>;
  close(): Promise<void>;
}

export class SqliteHistory implements HistoryBackend {
  readonly kind: HistoryBackend['kind'] = 'sqlite';
  constructor(readonly index: HistoryIndex) {}
  async queryFromText(text: string) {
    return this.index.queryFromText(text);
  }
  queryFromIncident(p: PastIncident) {
    return queryFromIncident(p);
  }
  async search(query: HistoryQuery, filter: HistoryFilter = {}, limit = 5) {
    return this.index.search(query, filter, limit);
  }
  async get(id: string) {
    return this.index.get(id);
  }
  async count() {
    return this.index.count();
  }
  async list(limit = 50, offset = 0) {
    return this.index.list(limit, offset);
  }
  async knownContent(hashes: readonly string[]) {
    return new Set(hashes.filter((h) => this.index.hasContent(h)));
  }
  async upsertMany(items: readonly UpsertItem[], now: Date = new Date()) {
    return this.index.batch(() => items.map((i) => this.index.upsert(i.incident, i.contentHash, i.source, now)));
  }
  async shareReported(_item: UpsertItem, _now: Date) {}
  async close() {}
}

/** Postgres: everything, in the shared database. */
export class PostgresBackend implements HistoryBackend {
  readonly kind: HistoryBackend['kind'] = 'postgres';
  constructor(readonly db: PostgresHistory) {}
  queryFromText(text: string) {
    return this.db.queryFromText(text);
  }
  queryFromIncident(p: PastIncident) {
    return queryFromIncident(p);
  }
  search(query: HistoryQuery, filter: HistoryFilter = {}, limit = 5) {
    return this.db.search(query, filter, limit);
  }
  get(id: string) {
    return this.db.get(id);
  }
  count() {
    return this.db.count();
  }
  list(limit = 50, offset = 0) {
    return this.db.list(limit, offset);
  }
  knownContent(hashes: readonly string[]) {
    return this.db.knownContent(hashes);
  }
  upsertMany(items: readonly UpsertItem[], now: Date = new Date()) {
    return this.db.upsertMany(items, now);
  }
  async shareReported(item: UpsertItem, now: Date) {
    await this.db.upsertMany([item], now);
  }
  close() {
    return this.db.close();
  }
}

/** The part of PineconeHistory the backend uses (the SDK is loaded only when configured). */
interface PineconeSearch {
  upsert(incidents: readonly PastIncident[]): Promise<number>;
  search(query: HistoryQuery, filter?: HistoryFilter, limit?: number): Promise<SimilarPast[]>;
}

/**
 * Pinecone: search there; incidents are kept in the local SQLite history as well (show, list,
 * incident_id queries, the services a free-text query can name) and upserted to Pinecone.
 */
export class PineconeBackend extends SqliteHistory {
  override readonly kind: HistoryBackend['kind'] = 'pinecone';
  constructor(index: HistoryIndex, private readonly remote: () => Promise<PineconeSearch>) {
    super(index);
  }
  override async search(query: HistoryQuery, filter: HistoryFilter = {}, limit = 5) {
    return (await this.remote()).search(query, filter, limit);
  }
  override async upsertMany(items: readonly UpsertItem[], now: Date = new Date()) {
    const results = await super.upsertMany(items, now);
    const changed = items.filter((_, i) => results[i] !== 'unchanged').map((i) => i.incident);
    if (changed.length) await (await this.remote()).upsert(changed);
    return results;
  }
  override async shareReported(item: UpsertItem, _now: Date) {
    await (await this.remote()).upsert([item.incident]);
  }
}

/** The history the environment configures for a store's own SQLite index; null: that index alone. */
export function configuredHistory(index: HistoryIndex, env: NodeJS.ProcessEnv): HistoryBackend | null {
  if (env.PINECONE_API_KEY?.trim()) {
    let remote: Promise<PineconeSearch> | null = null;
    return new PineconeBackend(index, () => {
      remote ??= import('./pinecone.js').then(({ pineconeSettings, PineconeHistory }) => new PineconeHistory(pineconeSettings(env)!));
      return remote;
    });
  }
  const url = env.HINDSIGHT_DATABASE_URL?.trim();
  return url ? lazyPostgres(url) : null;
}

class DatabaseUrlError extends Error {
  override name = 'ConfigError';
}

/** A Postgres backend whose driver is loaded on first use (a SQLite-only user never loads pg). */
function lazyPostgres(url: string): HistoryBackend {
  let db: Promise<PostgresBackend> | null = null;
  const open = () =>
    (db ??= /^postgres(ql)?:\/\//i.test(url)
      ? import('./postgresIndex.js').then(({ PostgresHistory }) => new PostgresBackend(new PostgresHistory({ url })))
      : Promise.reject(new DatabaseUrlError('HINDSIGHT_DATABASE_URL: expected postgres://… or postgresql://…')));
  return {
    kind: 'postgres',
    queryFromText: async (text) => (await open()).queryFromText(text),
    queryFromIncident,
    search: async (query, filter, limit) => (await open()).search(query, filter, limit),
    get: async (id) => (await open()).get(id),
    count: async () => (await open()).count(),
    list: async (limit, offset) => (await open()).list(limit, offset),
    knownContent: async (hashes) => (await open()).knownContent(hashes),
    upsertMany: async (items, now) => (await open()).upsertMany(items, now),
    shareReported: async (item, now) => (await open()).shareReported(item, now),
    close: async () => {
      if (db) await (await db).close();
    },
  };
}

const attached = new WeakMap<IncidentStore, HistoryBackend>();
const pending = new WeakMap<IncidentStore, Set<Promise<void>>>();

export function attachHistory(store: IncidentStore, backend: HistoryBackend): void {
  attached.set(store, backend);
}

/** The history search and memory go through for this store: the configured one, or its SQLite index. */
export function historyOf(store: IncidentStore): HistoryBackend {
  let backend = attached.get(store);
  if (!backend) attached.set(store, (backend = new SqliteHistory(store.history)));
  return backend;
}

/**
 * Shares a report the store just saved with the configured history, in the background (the
 * store's API is synchronous). A failure is a warning: the report is stored locally either way.
 */
export function shareReported(store: IncidentStore, item: UpsertItem, now: Date): void {
  const backend = attached.get(store);
  if (!backend || backend.kind === 'sqlite') return;
  let set = pending.get(store);
  if (!set) pending.set(store, (set = new Set()));
  const job: Promise<void> = backend.shareReported(item, now).catch((err: Error) => {
    process.stderr.write(`hindsight: warning: report ${item.incident.id} not added to the ${backend.kind} history (${redactSecrets(err.message.split('\n')[0] ?? '')})\n`);
  });
  set.add(job);
  void job.finally(() => set.delete(job));
}

/** Waits for reports still being shared, then closes the configured history's connections. */
export async function closeHistory(store: IncidentStore): Promise<void> {
  const set = pending.get(store);
  if (set) await Promise.all([...set]);
  const backend = attached.get(store);
  attached.delete(store);
  await backend?.close().catch(() => {});
}
