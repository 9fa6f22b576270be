// After Slack, 2021-01-04: the first working morning after the holidays, client traffic (cold
// caches) surges; the cloud provider's transit gateways between VPCs do not scale fast enough and
// drop packets; the web tier autoscales hard and the provisioning service hits its own limits.
// No change caused it (a deploy rolled back during the incident made no difference).
import { Incident, ms, iso, isoS, MIN, SEC } from './lib.mjs';

export const slug = 'holiday-surge-transit-gateway';
export const source = 'Slack, "Slack\'s Outage on January 4th 2021" (slack.engineering, 2021-02-01)';

export function build() {
  const I = new Incident({ seed: 210104, company: 'Chirper', domain: 'chirper.chat' });
  I.person('oncall', 'Brianna Cole', { login: 'bcole-sre' });
  I.person('ic', 'Matthias Weber', { login: 'mweber' });
  I.person('net', 'Keanu Kahale', { login: 'kkahale' });
  I.person('web', 'Sofia Lindqvist', { login: 'slindqvist' });
  I.person('prov', 'Omar Haddad', { login: 'ohaddad-infra' });
  I.person('tam', 'Grace Liu', { login: 'gliu-aws' });

  const from = ms('2021-01-04T10:00:00Z');
  const to = ms('2021-01-04T18:30:00Z');
  const onset = ms('2021-01-04T14:57:00Z');
  const tgwScaled = ms('2021-01-04T16:21:00Z');
  const page = ms('2021-01-04T14:59:31Z');
  const ack = ms('2021-01-04T15:00:12Z');
  const resolve = ms('2021-01-04T17:12:48Z');

  // ---- GitHub: first deploys after the holiday freeze (innocent), a config change closer to the onset
  const WEB = 'chirper/webapp';
  I.commit(WEB, { message: 'Emoji picker: lazy-load skin tone sprites', author: 'web', at: ms('2020-12-18T15:00:00Z'), files: [
    { filename: 'js/emoji/picker.ts', patch: '@@ -40,7 +40,9 @@ export async function openPicker(el: HTMLElement) {\n-  const sprites = loadAllSprites();\n+  const sprites = await import(\n+    /* webpackChunkName: "emoji-skin" */ "./sprites"\n+  ).then((m) => m.load());' },
  ] });
  I.commit(WEB, { message: 'Channel sidebar: fix unread badge for muted channels', author: 'web', at: ms('2020-12-21T11:00:00Z'), files: [
    { filename: 'js/sidebar/badges.ts', patch: '@@ -18,5 +18,5 @@ export function unreadBadge(ch: Channel) {\n-  return ch.unread > 0;\n+  return ch.unread > 0 && !ch.muted;\n }' },
  ] });
  const webDeploy = I.deploy(WEB, { env: 'production', ref: 'release-2021-01-04-1', description: 'webapp release-2021-01-04-1 (first after freeze)', createdAt: ms('2021-01-04T14:20:00Z'), finishedAt: ms('2021-01-04T14:41:27Z') });
  I.deploy(WEB, { env: 'production', ref: 'release-2020-12-18-3', description: 'rollback to release-2020-12-18-3', createdAt: ms('2021-01-04T15:14:00Z'), finishedAt: ms('2021-01-04T15:26:05Z'), sha: I.repo(WEB).commits[0].sha, commits: [] });
  I.commit('chirper/edge-cache', { message: 'Raise channel-history cache TTL from 30s to 45s', author: 'net', at: ms('2020-12-30T09:00:00Z'), files: [
    { filename: 'conf/ttl.yaml', patch: '@@ -4,7 +4,7 @@ routes:\n   channel_history:\n-    ttl: 30s\n+    ttl: 45s\n     stale_while_revalidate: 10s' },
  ] });
  I.deploy('chirper/edge-cache', { env: 'prod-us-east-1', ref: 'ec-301', description: 'edge-cache ec-301', createdAt: ms('2021-01-04T14:48:00Z'), finishedAt: ms('2021-01-04T14:53:44Z') });

  // ---- Datadog
  const hodF = (t) => { const h = new Date(t).getUTCHours() + new Date(t).getUTCMinutes() / 60; return Math.max(0.25, Math.min(1.6, (h - 11) / 2.5)); };
  const bad = (t) => t >= onset && t < tgwScaled;
  I.series({ metric: 'trace.http.request.errors', expression: 'sum:trace.http.request.errors{service:webapp,env:production,http.status_class:5xx}.as_count()', scope: 'env:production,http.status_class:5xx,service:webapp', interval: 30, from, to, unit: 'request', fn: (t) => bad(t) ? I.noise(148000, 0.12) : t >= tgwScaled && t < tgwScaled + 20 * MIN ? I.noise(9000, 0.3) : I.noise(310 * hodF(t), 0.2) });
  I.series({ metric: 'trace.http.request.hits', expression: 'sum:trace.http.request.hits{service:webapp,env:production}.as_count()', scope: 'env:production,service:webapp', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(1_050_000 * hodF(t), 0.04) });
  I.series({ metric: 'aws.transitgateway.bytes_in', expression: 'sum:aws.transitgateway.bytes_in{transitgatewayid:tgw-0c3a91e7d2b54f8a1}', scope: 'transitgatewayid:tgw-0c3a91e7d2b54f8a1', interval: 60, from, to, unit: 'byte', fn: (t) => bad(t) ? I.noise(5.1e10, 0.03) : I.noise(3.4e10 * hodF(t), 0.05) });
  I.series({ metric: 'network.vpc.probe.packet_loss', expression: 'avg:network.vpc.probe.packet_loss{path:web-to-db}', scope: 'path:web-to-db', interval: 30, from, to, unit: 'percent', fn: (t) => bad(t) ? I.noise(11, 0.4) : t >= ms('2021-01-04T14:00:00Z') && t < onset ? I.noise(0.6, 0.6) : I.noise(0.02, 0.9) });
  I.series({ metric: 'aws.autoscaling.group_desired_capacity', expression: 'sum:aws.autoscaling.group_desired_capacity{autoscaling_group:webapp-prod}', scope: 'autoscaling_group:webapp-prod', interval: 60, from, to, unit: 'instance', fn: (t) => t < onset ? Math.round(1100 * Math.max(0.8, hodF(t))) : t < tgwScaled ? Math.min(2600, 1760 + Math.round((t - onset) / MIN * 25)) : 1900 });
  I.ddEvent({ at: ms('2021-01-04T14:59:10Z'), title: '[P1] Triggered: webapp 5xx rate > 1%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:webapp'] });
  I.ddEvent({ at: ms('2021-01-04T14:41:27Z'), title: 'Deployed webapp release-2021-01-04-1', source_type_name: 'deploy', tags: ['service:webapp', 'env:production'] });
  I.ddEvent({ at: ms('2021-01-04T15:26:05Z'), title: 'Deployed webapp release-2020-12-18-3 (rollback)', source_type_name: 'deploy', tags: ['service:webapp', 'env:production'] });

  // ---- logs
  const webs = ['webapp-i-0a91f3', 'webapp-i-07c2de', 'webapp-i-0f4410'];
  I.logsBetween(from, to, 220, 'webapp', 'info', webs, () => `${I.pick(['GET /api/conversations.history', 'POST /api/chat.postMessage', 'GET /api/client.boot', 'GET /api/users.counts'])} 200 ${I.int(20, 300)}ms`);
  I.logsBetween(onset, tgwScaled, 200, 'webapp', 'error', webs, () => I.pick([
    `upstream connect error or disconnect/reset before headers. reset reason: connection timeout (upstream=vitess-gate.internal:15991)`,
    `dial tcp 10.40.${I.int(1, 60)}.${I.int(2, 250)}:15991: i/o timeout`,
    `GET /api/client.boot 503 after 10002ms: backend unavailable (packet loss to db vpc)`,
  ]));
  I.logsBetween(ms('2021-01-04T15:10:00Z'), tgwScaled, 60, 'provision-service', 'error', ['prov-1', 'prov-2'], () => I.pick([
    'accept4: too many open files (ulimit 4096); dropping request',
    'ec2:RunInstances throttled: RequestLimitExceeded (webapp-prod scale-out)',
    'instance i-0' + I.hex(16) + ' failed health check: cannot reach config service',
  ]));

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] webapp 5xx rate > 1%', 'webapp');
  I.pdNotify(page + 500, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2021-01-04T15:32:00Z'), 'ic', 'Rollback of release-2021-01-04-1 finished 15:26, no improvement. Packet loss between VPCs. Case opened with AWS.');
  I.pdNote(ms('2021-01-04T16:25:00Z'), 'ic', 'AWS manually scaled our transit gateways at ~16:20. Packet loss gone, errors dropping.');
  I.pdResolve(resolve, 'ic');
  I.changeEvent({ at: ms('2021-01-04T14:30:00Z'), summary: 'Autoscaling: webapp-prod min capacity 900 -> 1100 (scheduled: post-holiday Monday)', integration: 'Terraform Cloud', services: ['webapp'], custom_details: { autoscaling_group: 'webapp-prod', min_size: { from: 900, to: 1100 } } });

  // ---- Slack
  const at = (hms) => ms(`2021-01-04T${hms}Z`);
  I.bot(at('14:59:33'), 'PagerDuty', ':rotating_light: *Triggered* #8801 [P1] webapp 5xx rate > 1%');
  I.say(at('15:00:40'), 'oncall', 'ack. 5xx spiking, client.boot timing out. first monday after the break, traffic is way up');
  const th = I.say(at('15:01:30'), 'web', 'we shipped release-2021-01-04-1 at 14:41, first release after the freeze. roll back?');
  I.say(at('15:02:20'), 'ic', "IC. go ahead and roll back, it's cheap", { thread: th });
  I.say(at('15:04:10'), 'net', 'seeing packet loss between the web VPC and the db VPC. 10%+ on the probes. not just us, our dashboards are slow too');
  I.say(at('15:06:00'), 'oncall', 'our monitoring dashboards are timing out as well, the metrics backend is behind the same transit gateway');
  I.say(at('15:09:45'), 'prov', 'webapp asg scaling out hard: desired 1760 -> 2000+. provision-service hitting open file limits and RunInstances throttling');
  I.say(at('15:12:30'), 'ic', 'raise provision-service ulimit, we need the capacity to land');
  I.say(at('15:26:40'), 'web', 'rollback to release-2020-12-18-3 done 15:26');
  I.say(at('15:29:15'), 'oncall', 'no change after the rollback, errors same level. not the release');
  I.say(at('15:31:00'), 'net', 'edge-cache ec-301 at 14:53 was just a TTL bump on channel history, no network effect');
  I.say(at('15:33:20'), 'net', 'transit gateway tgw-0c3a91e7d2b54f8a1 bytes in hit a ceiling around 14:57 and stays flat while demand keeps climbing. looks like TGW is not scaling with us');
  I.say(at('15:40:00'), 'tam', 'AWS here: confirmed, your TGWs in us-east-1 did not scale for the traffic ramp. we are manually raising capacity');
  I.say(at('15:41:10'), 'prov', `ulimit raised on prov-1/prov-2. for the record the vault token I used: ${I.secret('s.Qm9kZ0hhbGxvd2VlblRva2VuMjAyMQ')}`);
  I.say(at('16:21:30'), 'net', 'packet loss dropped to zero at 16:21, TGW capacity raised on the AWS side');
  I.say(at('16:45:00'), 'oncall', 'errors back to baseline, asg settling at 1900');
  I.say(at('17:12:00'), 'ic', 'resolving. follow-ups: pre-warm TGW before known peaks, autoscaling should not depend on the network path it is trying to fix, provision-service limits');
  I.bot(at('17:12:50'), 'PagerDuty', ':white_check_mark: *Resolved* #8801 [P1] webapp 5xx rate > 1%');

  const incident = { id: 'PC8801J', source: 'pagerduty', title: '[P1] webapp 5xx rate > 1%', service: 'webapp', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 8801, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://chirper.pagerduty.com/incidents/PC8801J' };
  const bundle = I.bundle({ incident, channel: { id: 'C01JAN04WEB', name: 'inc-2021-01-04-webapp' } });
  const expected = {
    family: 'traffic-surge',
    trigger: null,
    spike_onset: { metric: 'trace.http.request.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['transit gateway', 'TGW', 'traffic', 'packet loss'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  void webDeploy; void SEC;
  return { bundle, expected };
}
