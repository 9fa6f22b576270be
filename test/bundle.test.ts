import { describe, expect, it } from 'vitest';
import { BundleError, parseBundleText, validateBundle } from '../src/core/bundle.js';

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

describe('bundle validation', () => {
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
    expect(errorOf(() => parseBundleText('{"bundle_version":1,"incident":{"id":"x","created_at":"2025-01-10T09:30:00Z"},"sources":{"logs":"nope"}}')).message).toBe(
      'sources.logs: expected array, got string',
    );
  });
});
