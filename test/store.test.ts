import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postmortem } from '../src/core/analyze.js';
import { renderMarkdown } from '../src/core/markdown.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import { buildIncident, DOCS_PATCH, sha, TIMEOUT_PATCH } from './helpers/incidentBuilder.js';

function incident(id: string, service: string, patch: string, errorLog: string) {
  const b = buildIncident({
    service,
    errorOnset: 0,
    pageAt: 3,
    resolveAt: 30,
    errorLog,
    deployments: [{ repo: `acme/${service}`, id: 1, finishedAt: -1, commits: [{ sha: sha(id), message: 'change', files: [{ filename: 'config/app.yaml', patch }] }] }],
  });
  (b.incident as { id: string }).id = id;
  return b;
}

describe('incident store', () => {
  it('keeps bundles by incident id and replaces them on reload', () => {
    const store = IncidentStore.open(mkdtempSync(join(tmpdir(), 'hs-store-')));
    const b = incident('A-1', 'gateway-api', TIMEOUT_PATCH, 'UpstreamTimeoutError: timed out after 20ms ({n})');
    store.saveBundle(b);
    store.saveBundle(b);
    expect(store.listIncidents()).toHaveLength(1);
    expect(store.getBundle('A-1')?.incident.id).toBe('A-1');
    expect(store.getBundle('nope')).toBeNull();
    store.close();
  });

  it('ranks past post-mortems by BM25 relevance and survives a reopen', () => {
    const home = mkdtempSync(join(tmpdir(), 'hs-store-'));
    let store = IncidentStore.open(home);
    const timeout = postmortem(incident('A-1', 'gateway-api', TIMEOUT_PATCH, 'UpstreamTimeoutError: timed out after 20ms ({n})'));
    const docs = postmortem(incident('B-2', 'ledger-api', DOCS_PATCH, 'LedgerLockError: deadlock detected on ledger_entries ({n})'));
    store.saveReport(timeout, renderMarkdown(timeout));
    store.saveReport(docs, renderMarkdown(docs));
    store.close();
    store = IncidentStore.open(home);
    const hits = store.searchReports('request_timeout_ms upstream timed out', 5);
    expect(hits[0]?.id).toBe('A-1');
    expect(hits[0]!.score).toBeGreaterThan(0);
    expect(store.searchReports('deadlock ledger_entries', 5)[0]?.id).toBe('B-2');
    expect(store.searchReports('request_timeout_ms', 5, 'A-1').map((h) => h.id)).not.toContain('A-1');
    expect(store.searchReports('"; DROP TABLE reports; --', 5)).toEqual(expect.any(Array));
    expect(store.searchReports('zzzzqqq', 5)).toEqual([]);
    store.close();
  });
});
