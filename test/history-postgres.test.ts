// The history in PostgreSQL (HINDSIGHT_DATABASE_URL): a real server started for the suite. The same
// queries rank the same past incidents as the embedded SQLite history, re-imports change nothing,
// and processes (replicas) sharing one database see each other's imports and reports.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/core/report.js';
import { evalHistory, postgresEvalTarget } from '../src/history/commands.js';
import { importPaths, parsePostmortem } from '../src/history/import.js';
import { pastFromReport } from '../src/history/json.js';
import { HISTORY_SCHEMA, migrateHistoryDatabase, PostgresHistory } from '../src/history/postgresIndex.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import { postgresAvailability, startPostgres, type PostgresServer } from './helpers/postgres.js';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const SET = join(__dirname, 'fixtures', 'history', 'set');
const FORMATS = join(__dirname, 'fixtures', 'history', 'formats');
const SAMPLE = join(__dirname, '..', 'examples', 'sample-incident', 'bundle.json');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const available = postgresAvailability().available;

describe.skipIf(!available)('history in PostgreSQL', () => {
  let server: PostgresServer;
  let work: string;
  let shared: string;
  const envOf = (home: string, url = shared) => ({ HINDSIGHT_HOME: join(work, home), HINDSIGHT_DATABASE_URL: url });

  beforeAll(async () => {
    expect(existsSync(CLI), 'run npm run build first').toBe(true);
    server = await startPostgres();
    shared = await server.createDatabase('shared_history');
    work = mkdtempSync(join(tmpdir(), 'hindsight-history-pg-'));
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('two processes importing the labelled corpus at once store each incident once', async () => {
    const [a, b] = await Promise.all([
      run(['history', 'import', join(SET, 'corpus'), '--format', 'json'], envOf('replica-a')),
      run(['history', 'import', join(SET, 'corpus'), '--format', 'json'], envOf('replica-b')),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    const files = ra.files as number;
    expect(files).toBeGreaterThanOrEqual(300);
    // every file is imported by exactly one of them; the other finds it already there
    expect(ra.imported + rb.imported).toBe(files);
    expect(ra.imported + ra.unchanged).toBe(files);
    expect(rb.imported + rb.unchanged).toBe(files);
    const db = new PostgresHistory({ url: shared });
    try {
      expect(await db.count()).toBe(files);
    } finally {
      await db.close();
    }
  });

  it('the same queries rank the same past incidents as SQLite, scores and why_similar included', async () => {
    const local = new IncidentStore(':memory:');
    const db = new PostgresHistory({ url: shared });
    try {
      expect(importPaths(local.history, [join(SET, 'corpus')]).failed).toEqual([]);
      const labels = JSON.parse(readFileSync(join(SET, 'labels.json'), 'utf8')).queries as Record<string, string[]>;
      let sameTop5 = 0;
      let sameFirst = 0;
      let sameText = 0;
      const queries = Object.keys(labels);
      for (const q of queries) {
        const [incident] = parsePostmortem(join(SET, q), readFileSync(join(SET, q), 'utf8'));
        const query = local.history.queryFromIncident(incident!);
        const sqlite = local.history.search(query, {}, 5);
        const postgres = await db.search(query, {}, 5);
        const ids = (rs: typeof sqlite) => rs.map((r) => r.incident.id);
        if (ids(sqlite).sort().join() === ids(postgres).sort().join()) sameTop5++;
        if (sqlite[0]?.incident.id === postgres[0]?.incident.id && sqlite[0]?.why_similar.join() === postgres[0]?.why_similar.join()) sameFirst++;
        // free text (the new incident's title): words only, the part full-text search decides
        const byText = local.history.search(local.history.queryFromText(incident!.title), {}, 5);
        const byTextPg = await db.search(await db.queryFromText(incident!.title), {}, 5);
        if (JSON.stringify(byText.map((r) => [r.incident.id, r.score, r.why_similar])) === JSON.stringify(byTextPg.map((r) => [r.incident.id, r.score, r.why_similar]))) sameText++;
      }
      console.log(`history parity over ${queries.length} queries: same top-5 ${sameTop5}, same top-1 and why_similar ${sameFirst}, free text identical ${sameText}`);
      // measured: 79/80, 80/80, 80/80; Postgres stems with Snowball where FTS5 uses Porter
      expect(sameFirst).toBe(queries.length);
      expect(sameTop5).toBeGreaterThanOrEqual(Math.floor(queries.length * 0.95));
      expect(sameText).toBeGreaterThanOrEqual(Math.floor(queries.length * 0.95));
    } finally {
      local.close();
      await db.close();
    }
  });

  it('eval-history: recall@5 and MRR on Postgres match SQLite on the labelled set', async () => {
    const sqlite = await evalHistory(SET, 5);
    const db = new PostgresHistory({ url: shared, schema: 'eval_parity' });
    try {
      const postgres = await evalHistory(SET, 5, postgresEvalTarget(db));
      console.log(`eval-history: SQLite recall@5 ${sqlite.recall_at_5} MRR ${sqlite.mrr}; Postgres recall@5 ${postgres.recall_at_5} MRR ${postgres.mrr}`);
      expect(postgres.recall_at_5).toBeGreaterThanOrEqual(0.9);
      expect(postgres.mrr).toBeGreaterThanOrEqual(0.75);
      expect(Math.abs(postgres.recall_at_5 - sqlite.recall_at_5)).toBeLessThanOrEqual(0.0125);
      expect(Math.abs(postgres.mrr - sqlite.mrr)).toBeLessThanOrEqual(0.02);
    } finally {
      await db.dropSchema();
      await db.close();
    }
    const cli = await run(['eval-history', SET, '--backend', 'postgres', '--format', 'json'], envOf('eval'));
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ corpus: sqlite.corpus, recall_at_5: expect.any(Number) });
    // its throwaway schema is gone
    const client = new pg.Client({ connectionString: shared });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'hindsight_eval_%' OR nspname = 'eval_parity'");
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('re-importing is idempotent, from any process; an edited file updates its incident', async () => {
    const url = await server.createDatabase('reimport');
    const pms = join(work, 'pms');
    mkdirSync(pms);
    for (const f of ['google-sre.md', 'notion.html', 'generic.json']) writeFileSync(join(pms, f), readFileSync(join(FORMATS, f)));
    const first = await run(['history', 'import', pms], envOf('re-a', url));
    expect(first.stdout).toContain('imported 3, updated 0, unchanged 0, failed 0 (3 files; 3 past incidents in the history)');
    const before = await run(['history', 'search', 'x509 certificate has expired', '--format', 'json'], envOf('re-a', url));

    for (const home of ['re-a', 're-b']) {
      const again = await run(['history', 'import', pms], envOf(home, url));
      expect(again.stdout).toContain('imported 0, updated 0, unchanged 3, failed 0 (3 files; 3 past incidents in the history)');
    }
    // document counts were not counted twice: the same search scores the same
    expect((await run(['history', 'search', 'x509 certificate has expired', '--format', 'json'], envOf('re-b', url))).stdout).toBe(before.stdout);

    writeFileSync(join(pms, 'notion.html'), readFileSync(join(pms, 'notion.html'), 'utf8').replace('Alert 30 days before expiry', 'Alert 45 days before expiry'));
    expect((await run(['history', 'import', pms], envOf('re-b', url))).stdout).toContain('imported 0, updated 1, unchanged 2');
    const unknown = await run(['history', 'show', 'NOPE'], envOf('re-a', url));
    expect([unknown.code, unknown.stderr]).toEqual([2, 'hindsight: unknown past incident "NOPE"\n']);
    const json = JSON.parse((await run(['history', 'search', 'x509 certificate has expired', '--format', 'json'], envOf('re-a', url))).stdout);
    expect(json.results[0].open_action_items.map((a: { title: string }) => a.title)).toContain('Alert 45 days before expiry');
  });

  it('a report one process stores is Seen before in another process, on a fresh home', async () => {
    const url = await server.createDatabase('seen');
    const probe = await run(['postmortem', '--bundle', SAMPLE, '--format', 'json', '--no-store'], envOf('seen-probe', url));
    expect(probe.code, probe.stderr).toBe(0);
    const fresh = JSON.parse(probe.stdout) as Report;
    // process A imports a past write-up of the same failure
    const past = pastFromReport(fresh);
    const dir = join(work, 'seen-past');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'past.json'),
      JSON.stringify({ id: 'PAST-1', title: `${fresh.incident.service} degraded last spring`, date: '2024-03-02', services: past.services, summary: past.summary, root_cause: past.root_cause, error_signatures: past.error_signatures, files: past.files, config_keys: past.config_keys, action_items: [{ title: 'Alert on the dependency error rate', status: 'open', ticket: 'OPS-1' }] }),
    );
    expect((await run(['history', 'import', dir], envOf('seen-a', url))).code).toBe(0);
    // process B, its own empty home: the report shows it
    const b = await run(['postmortem', '--bundle', SAMPLE, '--format', 'json'], envOf('seen-b', url));
    expect(b.code, b.stderr).toBe(0);
    const report = JSON.parse(b.stdout) as Report;
    expect(report.seen_before?.[0]).toMatchObject({ id: 'PAST-1', open_action_items: [{ title: 'Alert on the dependency error rate', status: 'open' }] });
    // ... and B's stored report reaches the shared history for A (and any replica) to find
    const shown = await run(['history', 'show', fresh.incident.id], envOf('seen-a', url));
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: fresh.incident.id, origin: 'report' });
    // search_past_rcas in a third process's store goes to the same database
    const store = IncidentStore.open(join(work, 'seen-c'), { HINDSIGHT_DATABASE_URL: url });
    try {
      const { searchPastRcas } = await import('../src/tools/searchPastRcas.js');
      const result = await searchPastRcas.handler({ query: `${fresh.incident.service} degraded last spring`, limit: 5 }, { store, writesEnabled: false, cwd: work });
      const hit = (result.structured.hits as Array<{ id: string; uri: string }>).find((h) => h.id === 'PAST-1');
      expect(hit?.uri).toBe('hindsight://history/PAST-1/postmortem.md');
      // ... and the resource it points to is read from there too
      const { readConfiguredPastReport } = await import('../src/resources/pastReports.js');
      expect(await readConfiguredPastReport('PAST-1', { store, writesEnabled: false, cwd: work })).toContain(`# ${fresh.incident.service} degraded last spring`);
    } finally {
      store.close();
    }
  });

  it('migrations: versioned in their own table, run once under concurrent starts, a newer schema refused', async () => {
    const url = await server.createDatabase('migrations');
    const replicas = [0, 1, 2].map(() => new PostgresHistory({ url }));
    try {
      await Promise.all(replicas.map((r) => r.migrate()));
      expect(await replicas[0]!.schemaVersion()).toBe(1);
      expect(replicas.flatMap((r) => r.applied)).toEqual([1]);
      expect(await migrateHistoryDatabase(url)).toEqual({ schema: HISTORY_SCHEMA, applied: [], version: 1 });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT version FROM ${HISTORY_SCHEMA}.history_schema_version`);
        expect(rows).toEqual([{ version: 1 }]);
        await client.query(`INSERT INTO ${HISTORY_SCHEMA}.history_schema_version (version, name) VALUES (99, 'from the future')`);
      } finally {
        await client.end();
      }
      const newer = new PostgresHistory({ url });
      await expect(newer.count()).rejects.toThrow('newer than this hindsight knows');
      await newer.close();
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it('concurrent writers sharing words and ids neither deadlock nor lose document counts or lengths', async () => {
    const url = await server.createDatabase('writers');
    const local = new IncidentStore(':memory:');
    const ids = importPaths(local.history, [join(SET, 'corpus')]).ids.slice(0, 120);
    const incidents = ids.map((id) => local.history.get(id)!);
    const writers = [0, 1, 2].map(() => new PostgresHistory({ url }));
    try {
      // each writer stores all 120 in its own order, in batches: the same rows, contended
      await Promise.all(
        writers.map(async (w, k) => {
          const order = k === 1 ? [...incidents].reverse() : k === 2 ? incidents.filter((_, i) => i % 2).concat(incidents.filter((_, i) => i % 2 === 0)) : incidents;
          for (let i = 0; i < order.length; i += 25) await w.upsertMany(order.slice(i, i + 25).map((p) => ({ incident: p, contentHash: `h-${p.id}`, source: null })));
        }),
      );
      const reference = new PostgresHistory({ url, schema: 'reference' });
      await reference.upsertMany(incidents.map((p) => ({ incident: p, contentHash: `h-${p.id}`, source: null })));
      expect(await writers[0]!.count()).toBe(120);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const counts = async (schema: string) => (await client.query(`SELECT term, df FROM ${schema}.terms WHERE df <> 0 ORDER BY term`)).rows;
        const written = await counts(HISTORY_SCHEMA);
        expect(written.length).toBeGreaterThan(100);
        expect(written).toEqual(await counts('reference'));
        const stats = async (schema: string) => (await client.query(`SELECT documents, tokens FROM ${schema}.stats`)).rows;
        expect(await stats(HISTORY_SCHEMA)).toEqual(await stats('reference'));
      } finally {
        await client.end();
        await reference.close();
      }
    } finally {
      local.close();
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it('a bad or unreachable database URL is one line, without the password', async () => {
    const bad = await run(['history', 'search', 'pool exhausted'], envOf('bad', 'mysql://u:pw@127.0.0.1/x'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('hindsight: HINDSIGHT_DATABASE_URL: expected postgres://… or postgresql://…\n');
    const down = await run(['history', 'search', 'pool exhausted'], envOf('down', 'postgres://hs:s3cret-pw@127.0.0.1:1/history'));
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^hindsight: history database 127\.0\.0\.1:1\/history: .*ECONNREFUSED.*\n$/);
    expect(down.stderr).not.toContain('s3cret-pw');
  });
});
