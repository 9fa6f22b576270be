import { describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { BundleError, parseBundleText, readBundle, skippedGaps, validateBundle, type Bundle } from '../src/core/bundle.js';
import { buildIncident, sha, TIMEOUT_PATCH } from './helpers/incidentBuilder.js';

const minimal = { bundle_version: 1, incident: { id: 'INC-1', created_at: '2025-01-10T09:30:00Z' } };

function errorOf(fn: () => unknown): BundleError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return err as BundleError;
  }
  throw new Error('expected a BundleError');
}

describe('bundle validation (strict, all or nothing)', () => {
  it('accepts the minimal bundle and ignores unknown keys and sources', () => {
    const b = validateBundle({ ...minimal, extra: true, sources: { pagerduty: { log_entries: [] }, zendesk: { tickets: [1] } } });
    expect(b.incident.id).toBe('INC-1');
  });

  it('names the JSON path of a missing required field', () => {
    expect(errorOf(() => validateBundle({ bundle_version: 1, incident: { created_at: '2025-01-10T09:30:00Z' } })).message).toBe('incident.id: required');
    expect(errorOf(() => validateBundle({ bundle_version: 1, incident: { id: 'x' } })).message).toBe('incident.created_at: required');
    expect(errorOf(() => validateBundle({ incident: minimal.incident })).path).toBe('bundle_version');
  });

  it('names nested array paths and the type problem', () => {
    const bad = {
      ...minimal,
      sources: { github: { repos: [{ full_name: 'a/b', deployments: [{ id: 1, sha: 'abc', created_at: '2025-01-10T09:00:00Z' }, { id: 2, sha: 'def', created_at: 12345 }] }] } },
    };
    const err = errorOf(() => validateBundle(bad));
    expect(err.path).toBe('sources.github.repos[0].deployments[1].created_at');
    expect(err.problem).toMatch(/expected string, got number/);
  });

  it('rejects times that are not ISO-8601 and Slack ts that are not epoch strings', () => {
    expect(errorOf(() => validateBundle({ bundle_version: 1, incident: { id: 'x', created_at: 'yesterday' } })).message).toBe('incident.created_at: not an ISO-8601 time');
    const slack = { ...minimal, sources: { slack: { messages: [{ ts: 'noon', text: 'hi' }] } } };
    expect(errorOf(() => validateBundle(slack)).path).toBe('sources.slack.messages[0].ts');
  });

  it('rejects empty text, invalid JSON and non-objects with one clear line', () => {
    expect(errorOf(() => parseBundleText('   ')).message).toBe('the bundle is empty');
    expect(errorOf(() => parseBundleText('{"bundle_version": 1, "incident": ')).message).toMatch(/^not valid JSON/);
    expect(errorOf(() => parseBundleText('[]')).message).toBe('the bundle must be a JSON object');
    expect(errorOf(() => parseBundleText('{"bundle_version":1,"incident":{"id":"x","created_at":"2025-01-10T09:30:00Z"},"sources":{"logs":"nope"}}', { strict: true })).message).toBe(
      'sources.logs: expected array, got string',
    );
  });
});

// A bundle with one element of every kind the analysis reads, all well-formed.
const complete = (): Bundle => {
  const b = buildIncident({
    service: 'gateway-api', errorOnset: 0, pageAt: 3, resolveAt: 30, errorLog: 'UpstreamTimeoutError: timed out after 20ms ({n})',
    chat: [{ at: 4, user: 'U1', text: 'looking' }, { at: 6, user: 'U1', text: 'rolling back' }],
    deployments: [{ repo: 'acme/gateway-api', id: 5, finishedAt: -1, commits: [{ sha: sha('tolerant'), message: 'timeout', files: [{ filename: 'config/u.yaml', patch: TIMEOUT_PATCH }, { filename: 'README.md', patch: '@@ -1 +1 @@\n-a\n+b' }] }] }],
  }) as any;
  b.sources.pagerduty.change_events = [{ id: 'C1', timestamp: '2025-03-04T09:50:00Z', summary: 'flag on' }, { id: 'C2', timestamp: '2025-03-04T09:51:00Z', summary: 'flag off' }];
  b.sources.pagerduty.alerts = [{ id: 'A1', created_at: '2025-03-04T10:02:00Z', summary: '5xx above 5%' }];
  b.sources.datadog.events = [{ id: 1, date_happened: 1741082300, title: 'Deployed gateway-api', tags: ['repo:acme/gateway-api', 'service:gateway-api'] }];
  b.sources.opsgenie = { logs: [{ log: 'Alert created', createdAt: '2025-03-04T10:03:00Z' }, { log: 'Acked', createdAt: '2025-03-04T10:04:00Z' }] };
  b.sources.newrelic = { nrql: [{ query: 'SELECT count(*) FROM Transaction', results: [{ beginTimeSeconds: 1741082400, count: 3 }, { beginTimeSeconds: 1741082460, count: 4 }] }] };
  return b as Bundle;
};

/** `path` as keys, e.g. ['sources', 'slack', 'messages', 1]. */
function without(b: unknown, path: Array<string | number>): unknown {
  const copy = structuredClone(b) as any;
  const parent = path.slice(0, -1).reduce((o, k) => o[k], copy);
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

function set(b: unknown, path: Array<string | number>, value: unknown): any {
  const copy = structuredClone(b) as any;
  const parent = path.slice(0, -1).reduce((o, k) => o[k], copy);
  parent[path[path.length - 1]!] = value;
  return copy;
}

describe('tolerant reading', () => {
  const base = complete();
  const cases: Array<[string, Array<string | number>, unknown, Array<string | number>, string]> = [
    // what, where the damage is, the bad value, what is left out, the kind counted
    ['a Datadog point', ['sources', 'datadog', 'metrics', 0, 'pointlist', 3], 'garbage', ['sources', 'datadog', 'metrics', 0, 'pointlist', 3], 'Datadog metric points'],
    ['a point time beyond any date', ['sources', 'datadog', 'metrics', 0, 'pointlist', 4, 0], 1e300, ['sources', 'datadog', 'metrics', 0, 'pointlist', 4], 'Datadog metric points'],
    ['a metric series', ['sources', 'datadog', 'metrics', 0, 'pointlist'], { a: 1 }, ['sources', 'datadog', 'metrics', 0], 'Datadog metric series'],
    ['a log line', ['sources', 'logs', 2, 'timestamp'], [[1]], ['sources', 'logs', 2], 'log lines'],
    ['a Slack message', ['sources', 'slack', 'messages', 1, 'ts'], 'noon', ['sources', 'slack', 'messages', 1], 'Slack messages'],
    ['a Slack ts past any date', ['sources', 'slack', 'messages', 1, 'ts'], '9'.repeat(40), ['sources', 'slack', 'messages', 1], 'Slack messages'],
    ['a PagerDuty log entry', ['sources', 'pagerduty', 'log_entries', 0, 'created_at'], null, ['sources', 'pagerduty', 'log_entries', 0], 'PagerDuty log entries'],
    ['a PagerDuty alert', ['sources', 'pagerduty', 'alerts', 0], 'alert!', ['sources', 'pagerduty', 'alerts', 0], 'PagerDuty alerts'],
    ['a PagerDuty change event', ['sources', 'pagerduty', 'change_events', 1, 'timestamp'], 'later', ['sources', 'pagerduty', 'change_events', 1], 'PagerDuty change events'],
    ['an Opsgenie log', ['sources', 'opsgenie', 'logs', 0, 'log'], 7, ['sources', 'opsgenie', 'logs', 0], 'Opsgenie log entries'],
    ['a deployment', ['sources', 'github', 'repos', 0, 'deployments', 0, 'sha'], null, ['sources', 'github', 'repos', 0, 'deployments', 0], 'GitHub deployments'],
    ['a deployment status', ['sources', 'github', 'repos', 0, 'deployments', 0, 'statuses', 0, 'state'], 5, ['sources', 'github', 'repos', 0, 'deployments', 0, 'statuses', 0], 'deployment statuses'],
    ['a commit', ['sources', 'github', 'repos', 0, 'commits', 0, 'sha'], { sha: 'x' }, ['sources', 'github', 'repos', 0, 'commits', 0], 'commits'],
    ['a commit file', ['sources', 'github', 'repos', 0, 'commits', 0, 'files', 1, 'filename'], null, ['sources', 'github', 'repos', 0, 'commits', 0, 'files', 1], 'commit files'],
    ['a Datadog event', ['sources', 'datadog', 'events', 0, 'date_happened'], '2025-03-04', ['sources', 'datadog', 'events', 0], 'Datadog events'],
    ['a New Relic result', ['sources', 'newrelic', 'nrql', 0, 'results', 1, 'beginTimeSeconds'], 'x', ['sources', 'newrelic', 'nrql', 0, 'results', 1], 'New Relic results'],
    ['an optional incident field', ['incident', 'title'], 42, ['incident', 'title'], 'optional fields'],
    ['an optional time inside a commit', ['sources', 'github', 'repos', 0, 'commits', 0, 'commit', 'author', 'date'], 'Tuesday', ['sources', 'github', 'repos', 0, 'commits', 0, 'commit', 'author', 'date'], 'optional fields'],
    ['a whole source of the wrong type', ['sources', 'slack'], 'slack', ['sources', 'slack'], 'optional fields'],
  ];
  for (const [what, at, value, leftOut, kind] of cases) {
    it(`leaves out ${what} and keeps everything else as it was`, () => {
      const input = set(base, at, value);
      const text = JSON.stringify(input);
      const { bundle, skipped } = readBundle(input);
      expect(JSON.stringify(input)).toBe(text);
      const { harvest, ...rest } = bundle as any;
      expect(rest).toEqual(without(base, leftOut));
      expect(harvest.skipped).toEqual([{ what: kind, count: 1, examples: [expect.stringMatching(new RegExp(`^${at.map((k) => (typeof k === 'number' ? `\\[${k}\\]` : k)).join('\\.?')}(\\[0\\])?: `))] }]);
      expect(skipped.total).toBe(1);
      expect(() => validateBundle(bundle)).not.toThrow();
      expect(() => readBundle(input, { strict: true })).toThrow(BundleError);
    });
  }

  it('returns a well-formed bundle itself, untouched', () => {
    const { bundle, skipped } = readBundle(base);
    expect(bundle).toBe(base);
    expect(skipped.total).toBe(0);
    expect(bundle.harvest?.skipped).toBeUndefined();
  });

  it('still rejects what no analysis can do without', () => {
    expect(errorOf(() => readBundle(without(base, ['incident', 'id']))).message).toBe('incident.id: required');
    expect(errorOf(() => readBundle(set(base, ['incident', 'id'], 7))).message).toBe('incident.id: expected string, got number');
    expect(errorOf(() => readBundle(set(base, ['incident', 'created_at'], 'soon'))).message).toBe('incident.created_at: not an ISO-8601 time');
    expect(errorOf(() => readBundle(set(base, ['incident'], []))).message).toBe('incident: expected object, got array');
    expect(errorOf(() => readBundle(set(base, ['bundle_version'], 2))).message).toBe('bundle_version: must be 1');
    expect(errorOf(() => readBundle('{}')).message).toBe('the bundle must be a JSON object');
  });

  it('counts elements, lists every problem, and reports the first few paths per kind as data gaps', () => {
    let input = set(base, ['sources', 'github', 'repos', 0, 'deployments', 0, 'statuses', 0], { state: 1, created_at: 'x' });
    for (const i of [1, 2, 3, 4, 5]) input = set(input, ['sources', 'datadog', 'metrics', 0, 'pointlist', i], null);
    const { bundle, skipped } = readBundle(input);
    expect(skipped.problems.map((p) => p.path)).toEqual([
      'sources.github.repos[0].deployments[0].statuses[0].state',
      'sources.github.repos[0].deployments[0].statuses[0].created_at',
      ...[1, 2, 3, 4, 5].map((i) => `sources.datadog.metrics[0].pointlist[${i}]`),
    ]);
    expect(skippedGaps(bundle)).toEqual([
      'deployment statuses left out as malformed: 1 (sources.github.repos[0].deployments[0].statuses[0].state: expected string, got number; sources.github.repos[0].deployments[0].statuses[0].created_at: not an ISO-8601 time)',
      'Datadog metric points left out as malformed: 5 (sources.datadog.metrics[0].pointlist[1]: expected [epoch_ms, value], got null; sources.datadog.metrics[0].pointlist[2]: expected [epoch_ms, value], got null; sources.datadog.metrics[0].pointlist[3]: expected [epoch_ms, value], got null; …)',
    ]);
  });

  it('names the problem that rejects a bundle even after problems that only leave elements out', () => {
    const input = set(set(base, ['incident', 'title'], 42), ['sources', 'slack', 'messages', 0, 'ts'], 'noon');
    expect(errorOf(() => readBundle(set(input, ['incident', 'created_at'], undefined))).message).toBe('incident.created_at: required');
  });

  it('a re-read copy (as stored) keeps what was left out', () => {
    const first = readBundle(set(base, ['sources', 'logs', 0], 'x')).bundle;
    const again = readBundle(JSON.parse(JSON.stringify(first)));
    expect(again.skipped.total).toBe(0);
    expect(skippedGaps(again.bundle)).toEqual(skippedGaps(first));
    const more = readBundle(set(JSON.parse(JSON.stringify(first)), ['sources', 'logs', 0], 'y')).bundle;
    expect(more.harvest?.skipped).toEqual([{ what: 'log lines', count: 2, examples: ['sources.logs[0]: expected object, got string', 'sources.logs[0]: expected object, got string'] }]);
  });

  it('the analysis of the good elements is unchanged; only the data gaps say what was left out', () => {
    const clean = buildReport(analyzeBundle(base));
    const input = set(set(base, ['sources', 'datadog', 'metrics', 0, 'pointlist', 7], ['t', 1]), ['sources', 'slack', 'messages', 0], 3);
    const damaged = buildReport(analyzeBundle(without(without(input, ['sources', 'datadog', 'metrics', 0, 'pointlist', 7]), ['sources', 'slack', 'messages', 0]) as Bundle));
    const tolerant = buildReport(analyzeBundle(readBundle(input).bundle));
    expect({ ...tolerant, data_gaps: [] }).toEqual({ ...damaged, data_gaps: [] });
    expect(tolerant.trigger).toEqual(clean.trigger);
    expect(tolerant.data_gaps).toEqual([
      ...damaged.data_gaps,
      'Slack messages left out as malformed: 1 (sources.slack.messages[0]: expected object, got number)',
      'Datadog metric points left out as malformed: 1 (sources.datadog.metrics[0].pointlist[7][0]: expected number, got string)',
    ]);
  });
});
