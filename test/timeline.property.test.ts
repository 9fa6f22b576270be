import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postmortem } from '../src/core/analyze.js';
import { validateBundle } from '../src/core/bundle.js';

const T0 = Date.parse('2025-06-01T00:00:00Z');
const HOUR = 3600_000;

const offsetIso = (ms: number, offsetMinutes: number, fraction: 0 | 3 | 6) => {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const frac = fraction === 0 ? '' : fraction === 3 ? `.${String(ms % 1000).padStart(3, '0')}` : `.${String(ms % 1000).padStart(3, '0')}417`;
  if (offsetMinutes === 0) return `${local}${frac}Z`;
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${local}${frac}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};

const time = fc.integer({ min: T0 - 6 * HOUR, max: T0 + 6 * HOUR });
const isoTime = fc.tuple(time, fc.constantFrom(0, 60, 120, 330, -300, -420, 540), fc.constantFrom<0 | 3 | 6>(0, 3, 6)).map(([ms, off, frac]) => offsetIso(ms, off, frac));
const text = fc.string({ maxLength: 60 });

const bundleArb = fc.record({
  created: isoTime,
  pd: fc.array(fc.record({ type: fc.constantFrom('trigger_log_entry', 'acknowledge_log_entry', 'annotate_log_entry', 'resolve_log_entry', 'notify_log_entry'), created_at: isoTime, summary: text }), { maxLength: 8 }),
  slack: fc.array(fc.record({ ms: time, micro: fc.integer({ min: 0, max: 999_999 }), text }), { maxLength: 12 }),
  deploys: fc.array(fc.record({ created: time, finished: time, state: fc.constantFrom('success', 'failure'), repo: fc.constantFrom('o/svc-api', 'o/web', 'o/platform-config') }), { maxLength: 5 }),
  points: fc.array(fc.oneof(fc.double({ min: 0, max: 1000, noNaN: true }), fc.constant(null)), { minLength: 0, maxLength: 300 }),
  events: fc.array(fc.record({ s: fc.integer({ min: (T0 - 6 * HOUR) / 1000, max: (T0 + 6 * HOUR) / 1000 }), title: text }), { maxLength: 5 }),
  logs: fc.array(fc.record({ at: isoTime, message: text, status: fc.constantFrom('info', 'warn', 'error') }), { maxLength: 30 }),
});

describe('timeline property', () => {
  it('any valid bundle yields a chronological timeline with UTC millisecond times', () => {
    fc.assert(
      fc.property(bundleArb, (g) => {
        const bundle = validateBundle({
          bundle_version: 1,
          incident: { id: 'P-1', title: 'svc-api errors', service: 'svc-api', created_at: g.created },
          sources: {
            pagerduty: { log_entries: g.pd.map((e, i) => ({ id: `L${i}`, ...e })) },
            slack: { messages: g.slack.map((m) => ({ ts: `${Math.floor(m.ms / 1000)}.${String(m.micro).padStart(6, '0')}`, user: 'U1', text: m.text })), users: { U1: { name: 'pat', real_name: 'Pat Example' } } },
            github: {
              repos: ['o/svc-api', 'o/web', 'o/platform-config'].map((repo) => ({
                full_name: repo,
                deployments: g.deploys
                  .filter((d) => d.repo === repo)
                  .map((d, i) => ({ id: i + 1, sha: 'a'.repeat(40), created_at: new Date(d.created).toISOString(), statuses: [{ state: d.state, created_at: new Date(d.finished).toISOString() }] })),
              })),
            },
            datadog: {
              metrics: [{ metric: 'trace.http.request.errors', scope: 'service:svc-api', pointlist: g.points.map((v, i) => [T0 - 2 * HOUR + i * 10_000 + 0.5, v]) }],
              events: g.events.map((e, i) => ({ id: i, date_happened: e.s, title: e.title, source_type_name: 'monitor alert', alert_type: 'error' })),
            },
            logs: g.logs.map((l) => ({ timestamp: l.at, message: l.message, status: l.status, service: 'svc-api' })),
          },
        });
        const report = postmortem(bundle);
        const re = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
        expect(report.timeline.length).toBeGreaterThan(0);
        for (let i = 0; i < report.timeline.length; i++) {
          expect(report.timeline[i]!.at).toMatch(re);
          if (i > 0) expect(report.timeline[i]!.at >= report.timeline[i - 1]!.at).toBe(true);
        }
        for (const s of report.spikes) expect(s.onset).toMatch(re);
        expect(report.action_items.length).toBeGreaterThanOrEqual(3);
        expect(report.action_items.length).toBeLessThanOrEqual(5);
        expect(JSON.stringify(report)).not.toMatch(/Pat Example/);
      }),
      { numRuns: 150 },
    );
  });

  it('events at the same instant keep source order, then bundle order', () => {
    const same = '2025-06-01T00:00:00.000Z';
    const report = postmortem(
      validateBundle({
        bundle_version: 1,
        incident: { id: 'P-2', created_at: same },
        sources: {
          slack: { messages: [{ ts: '1748736000.000000', text: 'first chat' }, { ts: '1748736000.000900', text: 'second chat' }] },
          pagerduty: { log_entries: [{ type: 'trigger_log_entry', created_at: same }, { type: 'acknowledge_log_entry', created_at: '2025-06-01T02:00:00+02:00' }] },
        },
      }),
    );
    const kinds = report.timeline.map((e) => `${e.source}:${e.kind}:${e.summary.slice(-12)}`);
    expect(kinds).toEqual(['pagerduty:page:Incident triggered'.slice(0, 0) + kinds[0], kinds[1], kinds[2], kinds[3]]);
    expect(report.timeline.map((e) => e.source)).toEqual(['pagerduty', 'pagerduty', 'slack', 'slack']);
    expect(report.timeline.map((e) => e.kind)).toEqual(['page', 'ack', 'chat', 'chat']);
    expect(report.timeline[2]!.summary).toMatch(/first chat/);
    expect(report.timeline[3]!.summary).toMatch(/second chat/);
  });
});
