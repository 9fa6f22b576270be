import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import type { LogRecord } from '../src/core/bundle.js';
import { loadBundleFile } from '../src/io/bundleLoader.js';
import { readBundleFile } from '../src/io/files.js';
import { buildIncident, sha, TIMEOUT_PATCH } from './helpers/incidentBuilder.js';

const dir = mkdtempSync(join(tmpdir(), 'hs-loader-'));
const write = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
  return p;
};
const bundle = buildIncident({
  service: 'gateway-api', errorOnset: 0, pageAt: 3, resolveAt: 30, errorLog: 'UpstreamTimeoutError: timed out after 20ms ({n})',
  deployments: [{ repo: 'acme/gateway-api', id: 5, finishedAt: -1, commits: [{ sha: sha('loader'), message: 'timeout', files: [{ filename: 'config/u.yaml', patch: TIMEOUT_PATCH }] }] }],
});
const records = (path: string) => {
  const out: LogRecord[] = [];
  loadBundleFile(path).logs.forEach((r) => out.push(r));
  return out;
};

describe('piecewise bundle loader', () => {
  it('gives the same report as parsing the whole file', () => {
    const path = write('whole.json', bundle);
    const loaded = loadBundleFile(path);
    expect(loaded.logs.count).toBe(bundle.sources!.logs!.length);
    expect(loaded.bundle.sources?.logs).toBeUndefined();
    const piecewise = buildReport(analyzeBundle(loaded.bundle, loaded.logs));
    expect(piecewise).toEqual(buildReport(analyzeBundle(readBundleFile(path))));
  });

  it('is not fooled by "logs" inside strings or under another source', () => {
    const tricky = structuredClone(bundle) as Record<string, any>;
    tricky.incident.title = 'see "logs": [1,2] in the runbook';
    tricky.sources = { opsgenie: { logs: [{ log: 'Alert created', createdAt: '2025-03-04T10:00:00.000Z' }] }, ...tricky.sources };
    const path = write('tricky.json', tricky);
    const loaded = loadBundleFile(path);
    expect(loaded.bundle.incident.title).toBe('see "logs": [1,2] in the runbook');
    expect(loaded.bundle.sources?.opsgenie?.logs).toHaveLength(1);
    expect(records(path)).toHaveLength(bundle.sources!.logs!.length);
  });

  it('names the bad log line with its JSON path', () => {
    const bad = structuredClone(bundle) as Record<string, any>;
    bad.sources.logs[7].timestamp = 'soon';
    const path = write('bad-line.json', bad);
    expect(() => records(path)).toThrow(/bad-line\.json: sources\.logs\[7\]\.timestamp: not a time/);
    bad.sources.logs[7].timestamp = 5;
    bad.sources.logs[9] = 'oops';
    expect(() => records(write('bad-line2.json', bad))).toThrow(/sources\.logs\[9\]: expected object, got string/);
  });

  it('falls back to the ordinary parser for the exact error on malformed files', () => {
    expect(() => loadBundleFile(write('trunc.json', '{"bundle_version": 1, "incident": {"id": "x", "created_at": "2025-01-01T00:00:00Z"}, "sources": {"logs": [{"timestamp": '))).toThrow(/trunc\.json: not valid JSON/);
    expect(() => loadBundleFile(write('string-logs.json', { ...bundle, sources: { logs: 'nope' } }))).toThrow(/sources\.logs: expected array, got string/);
    expect(() => loadBundleFile(write('trailing.json', JSON.stringify(bundle) + ' {}'))).toThrow(/not valid JSON/);
  });
});
