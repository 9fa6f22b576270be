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
const records = (path: string, strict = false) => {
  const out: LogRecord[] = [];
  loadBundleFile(path, { strict }).logs.forEach((r) => out.push(r));
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

  it('strict: names the bad log line with its JSON path', () => {
    const bad = structuredClone(bundle) as Record<string, any>;
    bad.sources.logs[7].timestamp = 'soon';
    const path = write('bad-line.json', bad);
    expect(() => records(path, true)).toThrow(/bad-line\.json: sources\.logs\[7\]\.timestamp: not a time/);
    bad.sources.logs[7].timestamp = 5;
    bad.sources.logs[9] = 'oops';
    expect(() => records(write('bad-line2.json', bad), true)).toThrow(/sources\.logs\[9\]: expected object, got string/);
  });

  it('leaves malformed log lines out, counts them by path, and visits every other line unchanged', () => {
    const bad = structuredClone(bundle) as Record<string, any>;
    const total = bad.sources.logs.length;
    bad.sources.logs[7].timestamp = 'soon';
    bad.sources.logs[9] = 'oops';
    bad.sources.logs[11].service = 42;
    const loaded = loadBundleFile(write('bad-lines.json', bad));
    const visited: Array<[LogRecord, number]> = [];
    loaded.logs.forEach((r, i) => visited.push([r, i]));
    expect(visited.map(([, i]) => i)).toEqual([...Array(total).keys()].filter((i) => i !== 7 && i !== 9));
    const good = records(write('good-lines.json', bundle));
    expect(visited.filter(([, i]) => i !== 11).map(([r]) => r)).toEqual(good.filter((_, i) => i !== 7 && i !== 9 && i !== 11));
    expect(visited.find(([, i]) => i === 11)![0]).toEqual({ ...good[11], service: undefined });
    expect(loaded.logs.skipped!.problems).toEqual([
      { path: 'sources.logs[7].timestamp', problem: 'not a time' },
      { path: 'sources.logs[9]', problem: 'expected object, got string' },
      { path: 'sources.logs[11].service', problem: 'expected string, got number' },
    ]);
    // a second pass (validate counts, then analyses) does not count twice
    loaded.logs.forEach(() => undefined);
    expect(loaded.logs.skipped!.total).toBe(3);
    const report = buildReport(analyzeBundle(loaded.bundle, loaded.logs));
    expect(report.data_gaps).toContain('log lines left out as malformed: 2 (sources.logs[7].timestamp: not a time; sources.logs[9]: expected object, got string)');
    expect(report.data_gaps).toContain('optional fields ignored as malformed: 1 (sources.logs[11].service: expected string, got number)');
  });

  it('gives the same report, piecewise or whole, when elements are malformed', () => {
    const bad = structuredClone(bundle) as Record<string, any>;
    bad.sources.logs[3].message = null;
    bad.sources.datadog.metrics[0].pointlist[2] = 'x';
    bad.incident.title = 42;
    const path = write('bad-mixed.json', bad);
    const loaded = loadBundleFile(path);
    const piecewise = buildReport(analyzeBundle(loaded.bundle, loaded.logs));
    expect(piecewise).toEqual(buildReport(analyzeBundle(readBundleFile(path))));
    expect(piecewise.data_gaps.filter((g) => g.includes(' as malformed: '))).toHaveLength(3);
  });

  it('falls back to the ordinary parser for the exact error on malformed files', () => {
    expect(() => loadBundleFile(write('trunc.json', '{"bundle_version": 1, "incident": {"id": "x", "created_at": "2025-01-01T00:00:00Z"}, "sources": {"logs": [{"timestamp": '))).toThrow(/trunc\.json: not valid JSON/);
    expect(() => loadBundleFile(write('trailing.json', JSON.stringify(bundle) + ' {}'))).toThrow(/not valid JSON/);
    expect(() => records(write('bad-literal.json', JSON.stringify(bundle).replace(/("logs":\[.*?"message":)/, '$1tru,"m":')))).toThrow(/bad-literal\.json: (sources\.logs\[\d+\]: )?not valid JSON/);
  });

  it('a sources.logs that is not an array is ignored, or rejected when strict', () => {
    const path = write('string-logs.json', { ...bundle, sources: { ...bundle.sources, logs: 'nope' } });
    expect(() => loadBundleFile(path, { strict: true })).toThrow(/sources\.logs: expected array, got string/);
    const loaded = loadBundleFile(path);
    expect(loaded.logs.count).toBe(0);
    expect(loaded.skipped.problems).toEqual([{ path: 'sources.logs', problem: 'expected array, got string' }]);
    expect(loaded.bundle.sources?.datadog).toEqual(bundle.sources?.datadog);
  });
});
