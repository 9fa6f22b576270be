// Incident memory: reading past post-mortems in their many shapes, similar-incident search that
// says why, and the commands over it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePostmortem, importPaths } from '../src/history/import.js';
import { signatureTemplate, normalizeSeverity } from '../src/history/features.js';
import { searchHistory } from '../src/history/service.js';
import type { PastIncident } from '../src/history/types.js';
import { IncidentStore } from '../src/store/incidentStore.js';

const FORMATS = join(__dirname, 'fixtures', 'history', 'formats');
const CLI = join(__dirname, '..', 'dist', 'cli.js');

function parse(name: string): PastIncident {
  const incidents = parsePostmortem(join(FORMATS, name), readFileSync(join(FORMATS, name), 'utf8'));
  expect(incidents).toHaveLength(1);
  return incidents[0]!;
}

describe('reading past post-mortems', () => {
  it('Google SRE template: bold "Key:" fields, action item table with ticket links and status', () => {
    const p = parse('google-sre.md');
    expect(p.title).toBe('Ledger writes stalled by a table lock');
    expect(p.date).toBe('2023-05-14T09:12:00.000Z');
    expect(p.severity).toBe('sev2');
    expect(p.services).toEqual(['ledger', 'payments-api']);
    expect(p.root_cause).toContain('exclusive lock on ledger_entries');
    expect(p.trigger_kind).toBe('deployment');
    expect(p.failure_modes).toEqual(expect.arrayContaining(['database', 'lock']));
    expect(p.files).toContain('migrations/0042_add_index_entries.sql');
    expect(p.hosts).toContain('ledger-db-primary-1');
    expect(p.error_signatures).toContain('error: canceling statement due to lock timeout on relation ledger_entries');
    expect(p.action_items).toEqual([
      { title: 'Run migrations with a lock timeout', status: 'open', ticket: { system: 'jira', key: 'LEDG-12', url: 'https://acme.atlassian.net/browse/LEDG-12' } },
      { title: 'Alert on lock wait time', status: 'done', ticket: { system: 'github', key: 'acme/ledger#88', url: 'https://github.com/acme/ledger/issues/88' } },
    ]);
  });

  it('incident.io style: front matter, task list checkboxes, bare ticket keys, items without status', () => {
    const p = parse('incident-io.md');
    expect(p).toMatchObject({ title: 'Search results empty for EU users', date: '2024-02-03T11:00:00.000Z', severity: 'sev2', services: ['search'], trigger_kind: 'feature_flag' });
    expect(p.config_keys).toContain('eu_index_routing');
    expect(p.hosts).toContain('search-eu.internal.acme.net');
    expect(p.action_items.map((a) => [a.title, a.status, a.ticket?.key ?? null])).toEqual([
      ['Stage flag rollouts by region', 'done', 'SRCH-3'],
      ['Alert on empty result rate', 'open', 'SRCH-4'],
      ['Document the index aliases', null, null],
    ]);
  });

  it('Confluence export: page-properties table, code macro, task list status', () => {
    const p = parse('confluence.html');
    expect(p).toMatchObject({ title: 'Billing exports failed', date: '2022-10-02', severity: 'sev3', services: ['billing', 'reporting'] });
    expect(p.root_cause).toContain('/data/exports');
    expect(p.config_keys).toContain('export.retention_days');
    expect(p.failure_modes).toContain('disk');
    expect(p.error_signatures.some((s) => s.includes('no space left on device'))).toBe(true);
    expect(p.action_items.map((a) => [a.title, a.status, a.ticket?.key ?? null])).toEqual([
      ["Tune export retention", "done", "BILL-7"],
      ['Alert on disk usage forecast', 'open', null],
    ]);
  });

  it('Notion export: property rows, to-do checkboxes, linked tickets', () => {
    const p = parse('notion.html');
    expect(p).toMatchObject({ title: 'Login outage: expired certificate', severity: 'sev1', services: ['auth-gateway'], trigger_kind: 'expiry' });
    expect(p.hosts).toContain('sso.acme.com');
    expect(p.error_signatures).toContain('x509: certificate has expired or is not yet valid');
    expect(p.action_items).toEqual([
      { title: 'Automate renewal', status: 'done', ticket: { system: 'github', key: 'acme/platform#501', url: 'https://github.com/acme/platform/issues/501' } },
      { title: 'Alert 30 days before expiry', status: 'open', ticket: null },
    ]);
  });

  it('generic JSON: ids, normalised severity and trigger, tickets as URL or key', () => {
    const p = parse('generic.json');
    expect(p).toMatchObject({ id: 'INC-2041', severity: 'sev1', trigger_kind: 'config_change', services: ['checkout'] });
    expect(p.config_keys).toContain('db.pool.max_size');
    expect(p.files).toContain('config/checkout/database.yaml');
    expect(p.action_items.map((a) => a.ticket?.key)).toEqual(['acme/checkout#12', 'OPS-9']);
  });

  it('bad JSON names the path of the problem', () => {
    expect(() => parsePostmortem('x.json', '{"incidents": [{"title": "ok"}, {"summary": "no title"}]}')).toThrow('incidents[1].title: required');
    expect(() => parsePostmortem('x.json', '{"title": "t", "date": "last tuesday"}')).toThrow('date: not a date');
    expect(() => parsePostmortem('x.json', '{"title": ')).toThrow(/not valid JSON/);
    expect(() => parsePostmortem('x.md', '   \n')).toThrow('empty file');
  });

  it('error messages compare equal whatever their numbers, ids and addresses', () => {
    expect(signatureTemplate('Timeout after 5000ms to 10.0.3.7:5432 (req 3f2a9c1e-1111-2222-3333-444455556666)')).toBe(
      signatureTemplate('timeout after 250ms to 10.9.9.1:5432 (req 00000000-aaaa-bbbb-cccc-dddddddddddd)'),
    );
    expect(signatureTemplate('x509: certificate expired')).toContain('x509');
    expect(['SEV-2', 'Sev 2', 'S2', 'P2', 'major'].map(normalizeSeverity)).toEqual(['sev2', 'sev2', 'sev2', 'sev2', 'sev2']);
  });
});

describe('similar-incident search', () => {
  let store: IncidentStore;
  beforeAll(() => {
    store = new IncidentStore(':memory:');
    const summary = importPaths(store.history, [FORMATS]);
    expect(summary.failed).toEqual([]);
    expect(summary.imported).toBe(5);
  });

  it('finds the past incident by its error message and says why', () => {
    const [top] = searchHistory(store, { query: 'could not acquire connection from pool orders within 3000ms' });
    expect(top?.incident.id).toBe('INC-2041');
    expect(top?.why_similar.join('\n')).toMatch(/error message .*could not acquire connection from pool orders/);
    expect(top?.why_similar.join('\n')).toContain('same failure mode: connection pool exhaustion');
  });

  it('a config key or host alone finds the incident that named it', () => {
    expect(searchHistory(store, { query: 'export.retention_days' })[0]?.incident.title).toBe('Billing exports failed');
    const byHost = searchHistory(store, { query: 'errors from ledger-db-primary-1' })[0]!;
    expect(byHost.incident.title).toBe('Ledger writes stalled by a table lock');
    expect(byHost.why_similar).toContain('same host ledger-db-primary-1');
  });

  it('filters by service, date range and severity', () => {
    const q = 'outage failed errors expired lock pool disk flag';
    const ids = (filter: object) => searchHistory(store, { query: q, filter, limit: 10 }).map((r) => r.incident.title).sort();
    expect(ids({ service: 'billing' })).toEqual(['Billing exports failed']);
    expect(ids({ from: '2023-01-01', to: '2023-12-31' })).toEqual(['Checkout 5xx: connection pool exhausted', 'Ledger writes stalled by a table lock']);
    expect(ids({ severity: 'SEV1' })).toEqual(['Checkout 5xx: connection pool exhausted', 'Login outage: expired certificate']);
  });

  it('by incident id: incidents like a stored one, itself left out', () => {
    const results = searchHistory(store, { incidentId: 'INC-2041', limit: 10 });
    expect(results.map((r) => r.incident.id)).not.toContain('INC-2041');
    expect(() => searchHistory(store, { incidentId: 'NOPE' })).toThrow('unknown incident "NOPE"');
  });

  it('a near-miss that only shares words ranks below the same failure', () => {
    const local = new IncidentStore(':memory:');
    const same = { id: 'SAME', title: 'Orders API errors', services: ['orders'], summary: 'Orders failed.', root_cause: '`http.client.timeout_ms` was lowered below the latency of tax-engine.', error_signatures: ['context deadline exceeded calling tax-engine'] };
    const near = { id: 'NEAR', title: 'Orders API errors and timeouts: tax engine latency', services: ['orders'], summary: 'Orders API errors and timeouts; tax engine latency was high.', root_cause: 'The orders database ran out of disk; writes failed and the API timed out.', error_signatures: ['No space left on device'] };
    const dir = mkdtempSync(join(tmpdir(), 'hindsight-near-'));
    writeFileSync(join(dir, 'pm.json'), JSON.stringify([same, near]));
    importPaths(local.history, [dir]);
    const results = searchHistory(local, { query: 'orders API errors: context deadline exceeded calling tax-engine after http.client.timeout_ms change' });
    expect(results.map((r) => r.incident.id)).toEqual(['SAME', 'NEAR']);
    expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
    local.close();
  });

  it('reports stored by Hindsight are searchable the same way', () => {
    expect(store.history.get('INC-2041')?.origin).toBe('generic-json');
  });
});

describe('hindsight history and eval-history', () => {
  let home: string;
  let work: string;
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, HINDSIGHT_HOME: home } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    expect(existsSync(CLI), 'run npm run build first').toBe(true);
    work = mkdtempSync(join(tmpdir(), 'hindsight-history-'));
    home = join(work, 'home');
    cpSync(FORMATS, join(work, 'pms'), { recursive: true });
    writeFileSync(join(work, 'pms', 'broken.json'), '{"incidents": [{"summary": "no title"}]}');
  });

  it('import: every readable file in, the bad one reported and skipped (exit 1), idempotent', () => {
    const first = run(['history', 'import', join(work, 'pms')]);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('imported 5, updated 0, unchanged 0, failed 1');
    expect(first.stderr).toBe(`hindsight: skipped ${join(work, 'pms', 'broken.json')}: incidents[0].title: required\n`);
    expect(first.stderr).not.toMatch(/\n\s+at /);

    const again = run(['history', 'import', join(work, 'pms', 'google-sre.md'), join(work, 'pms', 'notion.html'), '--format', 'json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, unchanged: 2, failed: [] });

    // an edited file replaces what its incident said before
    const edited = readFileSync(join(work, 'pms', 'notion.html'), 'utf8').replace('Alert 30 days before expiry', 'Alert 45 days before expiry');
    writeFileSync(join(work, 'pms', 'notion.html'), edited);
    expect(run(['history', 'import', join(work, 'pms', 'notion.html')]).stdout).toContain('imported 0, updated 1');
  });

  it('search prints ranked incidents with why_similar; JSON for tools', () => {
    const text = run(['history', 'search', 'x509 certificate has expired']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^1\. \S+ {2}\d\.\d\d {2}Login outage: expired certificate {2}\(2021-07-09\)\n {5}- (same|similar) error message/);
    const json = JSON.parse(run(['history', 'search', 'pool exhausted on orders-db-primary-2', '--format', 'json', '--severity', 'P1']).stdout);
    expect(json.results[0]).toMatchObject({ id: 'INC-2041', severity: 'sev1', open_action_items: [{ title: 'Alert on pool saturation', status: 'open', ticket: 'acme/checkout#12' }] });
    expect(json.results[0].why_similar).toContain('same host orders-db-primary-2');
  });

  it('bad flags are one line, exit 2', () => {
    for (const args of [['history', 'search'], ['history', 'search', 'x', '--from', 'yesterday'], ['history', 'search', 'x', '--severity', 'huge'], ['history', 'import'], ['history', 'nope']]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('eval-history on the labelled set: recall@5 >= 0.9 and MRR >= 0.75', () => {
    const set = join(__dirname, 'fixtures', 'history', 'set');
    const labels = JSON.parse(readFileSync(join(set, 'labels.json'), 'utf8'));
    expect(readdirSync(join(set, 'corpus')).length).toBeGreaterThanOrEqual(300);
    expect(Object.keys(labels.queries).length).toBeGreaterThanOrEqual(50);
    const r = run(['eval-history', set, '--format', 'json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.corpus).toBeGreaterThanOrEqual(300);
    expect(result.recall_at_5).toBeGreaterThanOrEqual(0.9);
    expect(result.mrr).toBeGreaterThanOrEqual(0.75);
    const text = run(['eval-history', set]);
    expect(text.stdout).toMatch(/recall@1: \d\.\d{3} {2}recall@5: \d\.\d{3} {2}MRR: \d\.\d{3}/);
  });

  it('the labelled set is what its generator makes (seeded, reproducible)', () => {
    const out = join(work, 'regenerated');
    const gen = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'history', 'generate.mjs'), out], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const set = join(__dirname, 'fixtures', 'history', 'set');
    expect(readFileSync(join(out, 'labels.json'), 'utf8')).toBe(readFileSync(join(set, 'labels.json'), 'utf8'));
    const files = readdirSync(join(set, 'corpus'));
    expect(readdirSync(join(out, 'corpus'))).toEqual(files);
    for (const f of files.filter((_, i) => i % 37 === 0)) expect(readFileSync(join(out, 'corpus', f), 'utf8')).toBe(readFileSync(join(set, 'corpus', f), 'utf8'));
  });
});

describe('secrets in imported post-mortems', () => {
  it('never leave the process: search text and JSON, show, the MCP tool', async () => {
    const work = mkdtempSync(join(tmpdir(), 'hindsight-history-secret-'));
    const home = join(work, 'home');
    const secret = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    writeFileSync(join(work, 'leak.md'), `# Deploy token leaked into logs\n\n**Date:** 2024-01-01\n**Services:** deployer\n\n## Root cause\n\nThe deployer logged \`GITHUB_TOKEN=${secret}\` on every retry: "auth failed for token ${secret}".\n`);
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, HINDSIGHT_HOME: home } });
    expect(run(['history', 'import', work]).status).toBe(0);
    const outputs = [
      run(['history', 'search', 'deployer logged token auth failed']).stdout,
      run(['history', 'search', 'deployer logged token auth failed', '--format', 'json']).stdout,
      run(['history', 'list']).stdout,
    ];
    const id = JSON.parse(outputs[1]!).results[0].id as string;
    outputs.push(run(['history', 'show', id]).stdout);
    const store = IncidentStore.open(home);
    try {
      const { searchPastRcas } = await import('../src/tools/searchPastRcas.js');
      const result = await searchPastRcas.handler({ query: 'deployer token auth failed', limit: 5 }, { store, writesEnabled: false, cwd: work });
      outputs.push(JSON.stringify(result));
      const { readPastReport } = await import('../src/resources/pastReports.js');
      outputs.push(readPastReport(id, { store, writesEnabled: false, cwd: work })!);
    } finally {
      store.close();
    }
    for (const o of outputs) {
      expect(o.length).toBeGreaterThan(0);
      expect(o).not.toContain(secret);
    }
    expect(outputs[1]).toContain('[REDACTED');
  });
});
