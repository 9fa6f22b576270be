// After Cloudflare, 2023-11-02: the colocation facility hosting most of the control plane lost utility
// power (one feed in unplanned maintenance, then a ground fault on the other), the generators did not
// carry the load and the UPS batteries ran out early. Every control-plane service homed there failed;
// the edge kept serving. Nothing in the company's own change systems caused it.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'datacenter-power-loss';
export const source = 'Cloudflare, "Post Mortem on Cloudflare Control Plane and Analytics Outage" (blog.cloudflare.com, 2023-11-04)';

export function build() {
  const I = new Incident({ seed: 231102, company: 'Parapet', domain: 'parapet.io' });
  I.person('oncall', 'Grace Oyelaran', { login: 'goyelaran' });
  I.person('ic', 'Martin Schreiber', { login: 'mschreiber' });
  I.person('dc', 'Nikolai Petrov', { login: 'npetrov-dc' });
  I.person('api', 'Isabela Costa', { login: 'icosta' });
  I.person('data', 'Jonah Whitfield', { login: 'jwhitfield' });
  I.person('billing', 'Sana Qureshi', { login: 'squreshi' });

  const from = ms('2023-11-02T09:00:00Z');
  const to = ms('2023-11-02T18:00:00Z');
  const feedA = ms('2023-11-02T08:50:00Z');
  const fault = ms('2023-11-02T11:40:10Z');
  const onset = ms('2023-11-02T11:44:00Z');
  const page = ms('2023-11-02T11:46:22Z');
  const ack = ms('2023-11-02T11:47:05Z');
  const failoverDone = ms('2023-11-02T15:10:00Z');
  const resolve = ms('2023-11-04T04:25:31Z');

  // ---- GitHub: three innocent changes in the three hours before
  I.commit('parapet/control-api', { message: 'Zones API: paginate custom hostname listing (cursor)', author: 'api', at: ms('2023-11-01T16:00:00Z'), files: [
    { filename: 'internal/zones/hostnames.go', patch: '@@ -88,7 +88,10 @@ func (h *Handler) ListHostnames(w http.ResponseWriter, r *http.Request) {\n-\trows, err := h.store.Hostnames(ctx, zoneID)\n+\tcur := r.URL.Query().Get("cursor")\n+\trows, next, err := h.store.HostnamesPage(ctx, zoneID, cur, 500)\n+\tw.Header().Set("X-Next-Cursor", next)' },
  ] });
  const apiDeploy = I.deploy('parapet/control-api', { env: 'production', ref: 'control-api-v2023.11.02.1', description: 'control-api v2023.11.02.1', createdAt: ms('2023-11-02T11:02:00Z'), finishedAt: ms('2023-11-02T11:21:44Z') });
  I.commit('parapet/kafka-config', { message: 'analytics-logs: retention 72h -> 96h', author: 'data', at: ms('2023-11-01T10:00:00Z'), files: [
    { filename: 'topics/analytics-logs.yaml', patch: '@@ -3,5 +3,5 @@ name: analytics-logs\n partitions: 256\n config:\n-  retention.ms: 259200000\n+  retention.ms: 345600000' },
  ] });
  const kafkaDeploy = I.deploy('parapet/kafka-config', { env: 'pdx-core', ref: 'kc-0917', description: 'kafka-config kc-0917 (topic config only)', createdAt: ms('2023-11-02T10:40:00Z'), finishedAt: ms('2023-11-02T10:55:03Z') });
  I.changeEvent({ at: ms('2023-11-02T11:39:30Z'), summary: 'Feature flag billing.usage_v2 ramped 10% -> 25%', integration: 'flagsmith', services: ['billing'], custom_details: { flag: 'billing.usage_v2', rollout: { from: 10, to: 25 } } });

  // ---- Datadog
  const down = (t) => (t < onset ? 0 : t < failoverDone ? 1 - 0.6 * Math.max(0, (t - ms('2023-11-02T13:30:00Z')) / (failoverDone - ms('2023-11-02T13:30:00Z'))) : 0.15);
  I.series({ metric: 'control_api.requests.errors', expression: 'sum:control_api.requests.errors{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(120, 0.25) + (t >= onset ? down(t) * I.noise(96000, 0.05) : 0) });
  I.series({ metric: 'facility.power.input_kw', expression: 'sum:facility.power.input_kw{site:pdx-c4}', scope: 'site:pdx-c4', interval: 60, from, to, unit: 'kilowatt', fn: (t) => (t < fault ? I.noise(1830, 0.02) : t < onset ? I.noise(1790, 0.02) : t < ms('2023-11-02T17:20:00Z') ? 0 : I.noise(240, 0.1)) });
  I.series({ metric: 'edge.requests.errors', expression: 'sum:edge.requests.errors{env:production}.as_count()', scope: 'env:production', interval: 60, from, to, unit: 'request', fn: () => I.noise(5200, 0.1) });
  I.ddEvent({ at: apiDeploy.finishedAt, title: 'Deployed control-api v2023.11.02.1', source_type_name: 'deploy', tags: ['service:control-api', 'env:production'] });
  I.ddEvent({ at: kafkaDeploy.finishedAt, title: 'kafka-config kc-0917 applied (pdx-core)', source_type_name: 'deploy', tags: ['service:kafka', 'site:pdx-c4'] });
  I.ddEvent({ at: ms('2023-11-02T11:46:00Z'), title: '[P1] Triggered: control-api error rate > 10%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:control-api'] });
  I.ddEvent({ at: ms('2023-11-02T11:44:40Z'), title: '[P2] No data: 1,412 hosts in site:pdx-c4 stopped reporting', alert_type: 'warning', source_type_name: 'monitor alert', tags: ['site:pdx-c4'] });

  // ---- logs
  I.log(feedA, 'bms-gateway', 'warn', 'bms-pdx-c4', 'UTILITY FEED A lost (utility unplanned maintenance); site on FEED B + GEN 1-3 per sequence');
  I.log(fault, 'bms-gateway', 'error', 'bms-pdx-c4', 'UTILITY FEED B ground fault at transformer T2; FEED B open. GEN 1-3 online; GEN 4 fail to sync');
  I.log(fault + 50 * SEC, 'bms-gateway', 'error', 'bms-pdx-c4', 'GEN 1-3 tripped (ground fault protection). UPS A/B on battery, est. runtime 10 min');
  I.log(ms('2023-11-02T11:43:50Z'), 'bms-gateway', 'error', 'bms-pdx-c4', 'UPS A/B battery exhausted after 4 min. Critical load lost: halls 2, 3');
  I.log(ms('2023-11-02T11:43:58Z'), 'pdu-monitor', 'error', 'pdu-h2-r14', 'input power lost on both feeds');
  I.logsBetween(onset, failoverDone, 180, 'control-api', 'error', ['capi-pdx-01', 'capi-hil-03', 'capi-ams-02'], () => `POST /client/v4/zones/${I.hex(32)}/dns_records 500: ${I.pick(['dial tcp 10.40.12.7:5432: connect: no route to host (pg-config-primary.pdx-c4)', 'context deadline exceeded calling authz.pdx-c4:7443', 'kafka: client has run out of available brokers (analytics-logs)'])}`);
  I.logsBetween(from, to, 160, 'control-api', 'info', ['capi-hil-03', 'capi-ams-02'], () => `${I.pick(['GET /client/v4/zones', 'GET /client/v4/user', 'PATCH /client/v4/zones/settings'])} 200 ${I.int(10, 300)}ms`);
  I.log(ms('2023-11-02T10:12:00Z'), 'control-api', 'info', 'capi-hil-03', `outbound webhook test to https://hooks.partner.example/parapet?token=${I.secret('whk_live_6Hq2Zr0pT9vXc3LmA7sN1bYe')} 204`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] control-api error rate > 10%', 'control-api');
  I.pdNotify(page + 700, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2023-11-02T11:52:00Z'), 'ic');
  I.pdNote(ms('2023-11-02T12:20:00Z'), 'ic', 'Site pdx-c4 lost all power at 11:44 (utility feed A in maintenance since 08:50, ground fault on feed B, generators tripped, UPS exhausted). Control plane services homed there are down; edge unaffected.');
  I.pdNote(ms('2023-11-02T15:12:00Z'), 'ic', 'Most control-plane services failed over to pdx-c1/c2. Analytics still down until pdx-c4 power is stable.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2023-11-${t}Z`);
  I.bot(at('02T11:46:25'), 'PagerDuty', ':rotating_light: *Triggered* #31288 [P1] control-api error rate > 10%');
  I.say(at('02T11:47:30'), 'oncall', 'ack. API and dashboard 500s. errors are "no route to host" to pg-config-primary and authz, both in pdx-c4');
  const th = I.say(at('02T11:48:40'), 'api', 'control-api v2023.11.02.1 finished 11:21. roll back?');
  I.say(at('02T11:49:30'), 'oncall', 'it ran fine for 20 min and the errors are connection failures to pdx-c4, not our code. also authz and analytics are down and they had no deploys', { thread: th });
  I.say(at('02T11:50:10'), 'billing', 'usage_v2 flag went 10->25% at 11:39, want me to turn it off?');
  I.say(at('02T11:51:00'), 'oncall', 'sure, harmless to try');
  I.say(at('02T11:55:40'), 'billing', 'flag back at 10%, no change in errors');
  I.say(at('02T11:53:20'), 'data', 'kafka in pdx-c4 is gone too, every broker at once. kc-0917 was a retention change at 10:55, no restarts');
  I.say(at('02T11:54:10'), 'dc', '1,412 hosts in pdx-c4 stopped reporting at 11:44 at the same second. BMS says feed A was in utility maintenance since 08:50, feed B had a ground fault 11:40, generators tripped, UPS ran out 11:43');
  I.say(at('02T11:58:00'), 'ic', 'IC. so the whole site is dark. start failover of control plane to pdx-c1/c2, ask the facility for an ETA on power');
  I.say(at('02T12:03:15'), 'dc', `facility portal login if anyone needs the incident page: dcops / ${I.secret('Pdx-C4#Facility!2023')}`);
  I.say(at('02T12:04:00'), 'ic', 'please do not paste credentials here. rotating that');
  I.say(at('02T15:11:00'), 'api', 'control-api, authz and config db failed over, dashboard working. analytics waits for pdx-c4');
  I.say(at('04T04:24:50'), 'ic', 'pdx-c4 power stable, analytics restored. resolving. follow-ups: every control plane service must run without pdx-c4, failover drills');
  I.bot(at('04T04:25:34'), 'PagerDuty', ':white_check_mark: *Resolved* #31288 [P1] control-api error rate > 10%');

  const incident = { id: 'Q3PA31288', source: 'pagerduty', title: '[P1] control-api error rate > 10%', service: 'control-api', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 31288, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://parapet.pagerduty.com/incidents/Q3PA31288' };
  const bundle = I.bundle({ incident, channel: { id: 'C04CPDOWN', name: 'inc-control-plane' } });
  const expected = {
    family: 'infra-no-change',
    trigger: null,
    spike_onset: { metric: 'control_api.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['power', 'pdx-c4', 'ground fault', 'generator', 'UPS'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
