// The Pinecone history backend through the real SDK, pointed at a loopback stand-in speaking
// Pinecone's REST shapes (PINECONE_CONTROLLER_URL; data-plane hosts come from describe_index).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPineconeFake, type PineconeFake } from './fakes/pineconeFake.js';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const FORMATS = join(__dirname, 'fixtures', 'history', 'formats');
const SET = join(__dirname, 'fixtures', 'history', 'set');
const KEY = 'pc-test-key-0000';

let fake: PineconeFake;
let work: string;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const envFor = (home: string, namespace: string, key = KEY) => ({ HINDSIGHT_HOME: join(work, home), PINECONE_API_KEY: key, PINECONE_CONTROLLER_URL: fake.url, PINECONE_NAMESPACE: namespace });

beforeAll(async () => {
  fake = await createPineconeFake({ apiKey: KEY });
  work = mkdtempSync(join(tmpdir(), 'hindsight-pinecone-'));
});
afterAll(async () => {
  await fake?.close();
});

describe('Pinecone history', () => {
  it('doctor flags missing indexes; init-index creates dense and sparse once; doctor is then healthy', async () => {
    const env = envFor('h-doctor', 'team-a');
    const before = await run(['doctor', '--format', 'json'], env);
    const check = (JSON.parse(before.stdout).checks as Array<{ source: string; missing: string[] }>).find((c) => c.source === 'pinecone')!;
    expect(check.missing).toEqual(['index hindsight-history does not exist (run hindsight history init-index)', 'index hindsight-history-sparse does not exist (run hindsight history init-index)']);

    expect((await run(['history', 'init-index'], env)).stdout).toBe('created hindsight-history\ncreated hindsight-history-sparse\n');
    expect((await run(['history', 'init-index'], env)).stdout).toBe('exists  hindsight-history\nexists  hindsight-history-sparse\n');
    expect(fake.requests.filter((r) => r.path === '/indexes/create-for-model')).toHaveLength(2);

    const after = await run(['doctor', '--format', 'json'], env);
    const ok = (JSON.parse(after.stdout).checks as Array<{ source: string; missing: string[]; detail: string; authorized: boolean }>).find((c) => c.source === 'pinecone')!;
    expect(ok).toMatchObject({ missing: [], authorized: true, detail: 'indexes hindsight-history and hindsight-history-sparse ready (namespace team-a)' });

    const denied = await run(['doctor', '--format', 'json'], envFor('h-doctor', 'team-a', 'wrong-key'));
    const bad = (JSON.parse(denied.stdout).checks as Array<{ source: string; authorized: boolean | null }>).find((c) => c.source === 'pinecone')!;
    expect(bad.authorized).toBe(false);
    expect(denied.stdout).not.toContain('wrong-key');
  });

  it('import upserts to the team namespace of both indexes, in batches, once', async () => {
    const env = envFor('h-import', 'team-b');
    await run(['history', 'init-index'], env);
    const first = await run(['history', 'import', FORMATS], env);
    expect(first.code, first.stderr).toBe(0);
    expect(fake.records('hindsight-history', 'team-b')).toHaveLength(5);
    expect(fake.records('hindsight-history-sparse', 'team-b')).toHaveLength(5);
    expect(fake.records('hindsight-history', 'team-a')).toHaveLength(0);
    const upserts = fake.requests.filter((r) => r.path.endsWith('/upsert') && r.namespace === 'team-b').length;
    await run(['history', 'import', FORMATS], env);
    expect(fake.requests.filter((r) => r.path.endsWith('/upsert') && r.namespace === 'team-b').length).toBe(upserts);
    const record = fake.records('hindsight-history', 'team-b').find((r) => r._id === 'INC-2041')!;
    expect(record).toMatchObject({ services: ['checkout'], severity: 'sev1', hosts: ['orders-db-primary-2'] });
  });

  it('search reads from Pinecone: fused ranking, why_similar, metadata filters', async () => {
    const env = envFor('h-import', 'team-b');
    const hit = JSON.parse((await run(['history', 'search', 'could not acquire connection from pool orders', '--format', 'json'], env)).stdout);
    expect(hit.results[0]).toMatchObject({ id: 'INC-2041', title: 'Checkout 5xx: connection pool exhausted' });
    expect(hit.results[0].why_similar.join('; ')).toMatch(/error message .*could not acquire connection from pool orders/);
    expect(fake.requests.some((r) => r.path === '/data/hindsight-history-sparse/records/namespaces/team-b/search')).toBe(true);

    const filtered = JSON.parse((await run(['history', 'search', 'certificate expired pool disk lock flag', '--severity', 'SEV1', '--from', '2022-01-01', '--format', 'json', '--limit', '10'], env)).stdout);
    expect(filtered.results.map((r: { id: string }) => r.id)).toEqual(['INC-2041']);
  });

  it('eval-history --backend pinecone: the labelled queries against the stand-in', async () => {
    const env = envFor('h-eval', 'eval');
    await run(['history', 'init-index'], env);
    const r = await run(['eval-history', SET, '--backend', 'pinecone', '--format', 'json'], env);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(fake.records('hindsight-history', 'eval').length).toBe(result.corpus);
    expect(Math.max(...fake.requests.filter((q) => q.records !== undefined).map((q) => q.records!))).toBeLessThanOrEqual(96);
    expect(result.recall_at_5).toBeGreaterThanOrEqual(0.9);
    expect(result.mrr).toBeGreaterThanOrEqual(0.75);
  });
});
