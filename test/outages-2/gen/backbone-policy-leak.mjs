// After Cloudflare, 2020-07-17: to relieve congestion after a backbone link problem, an engineer
// edited the Atlanta backbone router's export policy; deactivating one line made a term match every
// route, so Atlanta advertised all of its routes to the backbone with a high local preference. The
// whole backbone sent its traffic to Atlanta, which overloaded; removing Atlanta from the backbone
// restored service.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'backbone-policy-leak';
export const source = 'Cloudflare, "Cloudflare outage on July 17, 2020" (blog.cloudflare.com, 2020-07-18)';

export function build() {
  const I = new Incident({ seed: 200717, company: 'Aerolume', domain: 'aerolume.net' });
  I.person('oncall', 'Freya Nilsson', { login: 'fnilsson' });
  I.person('ic', 'Daniel Abara', { login: 'dabara-sre' });
  I.person('neteng', 'Marco Bianchi', { login: 'mbianchi' });
  I.person('neteng2', 'Aditi Rao', { login: 'arao-net' });
  I.person('dns', 'Samuel Otieno', { login: 'sotieno' });
  I.person('sec', 'Nora Kim', { login: 'nkim' });

  const from = ms('2020-07-17T18:30:00Z');
  const to = ms('2020-07-17T23:30:00Z');
  const linkIssue = ms('2020-07-17T20:25:00Z');
  const commit = ms('2020-07-17T21:11:58Z');
  const onset = ms('2020-07-17T21:12:30Z');
  const removed = ms('2020-07-17T21:39:20Z');
  const page = ms('2020-07-17T21:14:47Z');
  const ack = ms('2020-07-17T21:15:31Z');
  const resolve = ms('2020-07-17T22:26:09Z');

  // ---- change events from the router commit hook, plus decoys
  const neteng = I.p('neteng');
  I.changeEvent({ at: ms('2020-07-17T20:41:10Z'), summary: 'Junos commit on ord01-bb1: isis metric on xe-0/1/0 (to ewr01) 100 -> 60000 (drain flapping link)', integration: 'netconf-commit-hook', services: ['backbone'], custom_details: { router: 'ord01-bb1', committed_by: I.p('neteng2').email, diff: '[edit protocols isis interface xe-0/1/0.0 level 2]\n-      metric 100;\n+      metric 60000;', comment: 'drain EWR-ORD, provider ticket 8841-22' } });
  const ce = I.changeEvent({ at: commit, summary: 'Junos commit on atl01-bb1: policy-statement 6-BBONE-OUT term 6-SITE-LOCAL modified', integration: 'netconf-commit-hook', services: ['backbone'], custom_details: { router: 'atl01-bb1', committed_by: neteng.email, comment: 'move site-local traffic off IAD-ATL while EWR-ORD is drained', diff: '[edit policy-options policy-statement 6-BBONE-OUT term 6-SITE-LOCAL from]\n!      inactive: prefix-list 6-SITE-LOCAL { ... }', resulting_term: 'term 6-SITE-LOCAL {\n    inactive: from { prefix-list 6-SITE-LOCAL; }\n    then { local-preference 200; community add SITE-LOCAL-ROUTE; community add ATL01; community add NORTH-AMERICA; accept; }\n}' } });
  I.changeEvent({ at: ms('2020-07-17T21:12:08Z'), summary: 'DDoS L3 ruleset v4412 published to all colos', integration: 'edge-rules', services: ['edge'], custom_details: { ruleset: { from: 'v4411', to: 'v4412' }, rules_added: 2, note: 'new UDP reflection signature (memcached variant)' } });
  I.changeEvent({ at: removed, summary: 'Junos commit on atl01-bb1: deactivate protocols bgp group BBONE (remove atl01 from backbone)', integration: 'netconf-commit-hook', services: ['backbone'], custom_details: { router: 'atl01-bb1', committed_by: I.p('neteng2').email, diff: '[edit protocols bgp]\n!      inactive: group BBONE { ... }' } });
  I.changeEvent({ at: ms('2020-07-17T22:05:40Z'), summary: 'Junos commit on atl01-bb1: restore prefix-list 6-SITE-LOCAL in 6-BBONE-OUT; activate group BBONE', integration: 'netconf-commit-hook', services: ['backbone'], custom_details: { router: 'atl01-bb1', committed_by: I.p('neteng2').email, diff: '[edit policy-options policy-statement 6-BBONE-OUT term 6-SITE-LOCAL from]\n!      active: prefix-list 6-SITE-LOCAL { ... }\n[edit protocols bgp]\n!      active: group BBONE { ... }' } });

  // ---- GitHub: the resolver release 7 minutes before (innocent)
  I.commit('aerolume/resolver', { message: 'Serve stale answers for up to 30s when upstream times out', author: 'dns', at: ms('2020-07-16T14:00:00Z'), files: [
    { filename: 'src/cache/stale.rs', patch: '@@ -12,7 +12,7 @@ pub struct StalePolicy {\n impl Default for StalePolicy {\n     fn default() -> Self {\n-        StalePolicy { max_stale: Duration::from_secs(0) }\n+        StalePolicy { max_stale: Duration::from_secs(30) }\n     }\n }' },
  ] });
  const resDeploy = I.deploy('aerolume/resolver', { env: 'global', ref: 'resolver-v5.2.0', description: 'resolver v5.2.0 (all colos)', createdAt: ms('2020-07-17T20:50:00Z'), finishedAt: ms('2020-07-17T21:05:12Z') });

  // ---- Datadog
  const overload = (t) => t >= onset && t < removed + 20 * SEC;
  const tail = (t) => t >= removed + 20 * SEC && t < ms('2020-07-17T21:47:00Z');
  I.series({ metric: 'edge.responses.5xx', expression: 'sum:edge.responses.5xx{region:north-america OR region:europe}.as_count()', scope: 'region:europe,region:north-america', interval: 10, from, to, unit: 'response', fn: (t) => overload(t) ? I.noise(640000, 0.06) : tail(t) ? I.noise(30000, 0.3) : I.noise(2100, 0.15) });
  I.series({ metric: 'resolver.queries.timeout', expression: 'sum:resolver.queries.timeout{env:global}.as_count()', scope: 'env:global', interval: 10, from, to, unit: 'query', fn: (t) => overload(t) ? I.noise(910000, 0.05) : I.noise(1500, 0.2) });
  I.series({ metric: 'network.router.cpu', expression: 'avg:network.router.cpu{router:atl01-bb1}', scope: 'router:atl01-bb1', interval: 30, from, to, unit: 'percent', fn: (t) => overload(t) ? Math.min(100, I.noise(99, 0.01)) : I.noise(t > linkIssue ? 34 : 22, 0.1) });
  I.series({ metric: 'network.backbone.bits_in', expression: 'sum:network.backbone.bits_in{router:atl01-bb1}', scope: 'router:atl01-bb1', interval: 30, from, to, unit: 'bit', fn: (t) => overload(t) ? I.noise(1.9e12, 0.03) : t >= removed ? I.noise(1e9, 0.2) : I.noise(t > linkIssue ? 2.6e11 : 1.8e11, 0.05) });
  I.series({ metric: 'network.backbone.link.errors', expression: 'sum:network.backbone.link.errors{link:ewr01-ord01}.as_count()', scope: 'link:ewr01-ord01', interval: 30, from, to, unit: 'error', fn: (t) => t >= linkIssue && t < ms('2020-07-17T20:42:00Z') ? I.noise(8800, 0.3) : I.noise(2, 0.5) });
  I.ddEvent({ at: linkIssue + 40 * SEC, title: '[P3] Triggered: backbone link ewr01-ord01 errors', alert_type: 'warning', source_type_name: 'monitor alert', tags: ['link:ewr01-ord01'] });
  I.ddEvent({ at: resDeploy.finishedAt, title: 'Deployed resolver v5.2.0', source_type_name: 'deploy', tags: ['service:resolver', 'env:global', 'repo:aerolume/resolver'] });
  I.ddEvent({ at: ms('2020-07-17T21:14:20Z'), title: '[P1] Triggered: edge 5xx rate > 1% (NA+EU)', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:edge'] });

  // ---- logs
  const colos = ['metal-iad-0210', 'metal-ord-0117', 'metal-fra-0932', 'metal-lhr-0408', 'metal-sjc-0551'];
  I.logsBetween(from, to, 200, 'edge', 'info', colos, () => `${I.pick(['GET', 'GET', 'POST'])} ${I.pick(['/', '/cdn-cgi/trace', '/api/v1/items', '/static/app.js'])} ${I.pick([200, 200, 304])} rt=${(I.rng() * 0.08).toFixed(3)}`);
  I.logsBetween(onset, removed + 20 * SEC, 220, 'edge', 'error', colos, () => `upstream timed out (110: Connection timed out) connecting to origin via backbone next-hop atl01-bb1 (${I.pick(['xe-1/0/0', 'et-0/0/2', 'et-0/0/5'])}), colo=${I.pick(['IAD', 'ORD', 'FRA', 'LHR', 'SJC'])}`);
  I.logsBetween(onset, removed + 20 * SEC, 70, 'router-syslog', 'warn', ['atl01-bb1'], () => I.pick([
    `rpd[${I.int(1000, 9999)}]: %DAEMON-4-RPD_SCHED_SLIP: ${I.int(4, 9)} sec scheduler slip, user: ${I.int(3, 8)} sec ${I.int(1, 999999)} usec, system: 0 sec, ${I.int(1, 99999)} usec`,
    `kernel: %KERN-4-PFE_FW_SYSLOG: et-0/0/2 input queue drops ${I.int(100000, 900000)} pps`,
    `rpd[${I.int(1000, 9999)}]: BGP_PREFIX_THRESH_EXCEEDED: 172.16.0.${I.int(1, 40)} (Internal AS 64512): Configured maximum prefix-limit threshold(80) exceeded for inet-unicast nlri: ${I.int(700000, 820000)} (instance master)`,
  ]));
  I.log(commit - 10 * SEC, 'router-syslog', 'info', 'atl01-bb1', `mgd[${I.int(1000, 9999)}]: UI_COMMIT: User '${neteng.slack}' requested 'commit' operation (comment: move site-local traffic off IAD-ATL while EWR-ORD is drained)`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] edge 5xx rate > 1% (NA+EU)', 'edge');
  I.pdNotify(page + 500, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2020-07-17T21:36:00Z'), 'ic', 'Backbone traffic converging on atl01-bb1; it is CPU pegged and dropping. Started right after the 6-BBONE-OUT policy edit on atl01 at 21:11:58. Removing atl01 from the backbone.');
  I.pdNote(ms('2020-07-17T21:48:00Z'), 'ic', 'atl01 out of the backbone 21:39. 5xx back to normal by 21:47.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2020-07-17T${hms}Z`);
  I.bot(at('21:14:49'), 'PagerDuty', ':rotating_light: *Triggered* #24470 [P1] edge 5xx rate > 1% (NA+EU)');
  I.say(at('21:15:50'), 'oncall', 'ack. 5xx and resolver timeouts in IAD, ORD, FRA, LHR, SJC... half the network');
  const th = I.say(at('21:16:40'), 'dns', 'resolver v5.2.0 finished 21:05. serve-stale change. should I roll back?');
  I.say(at('21:17:30'), 'oncall', 'edge HTTP fails the same way and does not use the resolver. hold', { thread: th });
  I.say(at('21:18:10'), 'sec', 'DDoS ruleset v4412 went out at 21:12:08. could it be dropping legit traffic?');
  I.say(at('21:19:20'), 'oncall', 'no drops counted by the new rules. errors are upstream timeouts via backbone next-hop atl01-bb1');
  I.say(at('21:20:40'), 'ic', 'IC. is this still the EWR-ORD link from 20:25?');
  I.say(at('21:22:00'), 'neteng2', 'EWR-ORD was drained at 20:41 and has been quiet since. the new thing is atl01-bb1: CPU 100%, ~2 Tbps inbound, normally 200G');
  I.say(at('21:24:30'), 'neteng', 'I committed a change on atl01 at 21:11:58 to shift site-local traffic off IAD-ATL. deactivated the prefix-list line in term 6-SITE-LOCAL of 6-BBONE-OUT');
  I.say(at('21:26:45'), 'neteng2', 'with the from clause inactive the term matches EVERYTHING. atl01 is exporting every route to the backbone with local-pref 200, so every colo prefers atl01');
  I.say(at('21:28:00'), 'neteng2', 'and BGP on atl01 is at its prefix threshold, rpd slipping. rollback via console is slow, the box is barely responsive');
  I.say(at('21:30:10'), 'ic', 'fastest safe option?');
  I.say(at('21:31:20'), 'neteng2', 'deactivate the BBONE group on atl01. takes atl01 off the backbone, everything reconverges without it');
  I.say(at('21:32:00'), 'ic', 'go');
  I.say(at('21:33:30'), 'neteng', `for reference the tacplus stanza on atl01 if anyone needs to re-auth: secret "${I.secret('$9$Xk7Vb2aZGjHmf5Q39tuOBIcyrK8LX-dbs')}"`);
  I.say(at('21:39:40'), 'neteng2', 'BBONE group deactivated on atl01 at 21:39:20');
  I.say(at('21:47:30'), 'oncall', '5xx at baseline everywhere since ~21:47');
  I.say(at('22:06:10'), 'neteng2', 'restored the prefix-list and brought atl01 back into the backbone at 22:05, traffic normal');
  I.say(at('22:25:30'), 'ic', 'resolving. follow-ups: max-prefix limits on backbone sessions, policy changes through review + commit confirmed');
  I.bot(at('22:26:11'), 'PagerDuty', ':white_check_mark: *Resolved* #24470 [P1] edge 5xx rate > 1% (NA+EU)');

  const incident = { id: 'PAL24470', source: 'pagerduty', title: '[P1] edge 5xx rate > 1% (NA+EU)', service: 'edge', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 24470, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://aerolume.pagerduty.com/incidents/PAL24470' };
  const bundle = I.bundle({ incident, channel: { id: 'C01BBONE17', name: 'inc-backbone-atl' } });
  const expected = {
    family: 'shared-config',
    trigger: { kind: 'change_event', change_event_id: ce },
    spike_onset: { metric: 'edge.responses.5xx', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['atl01', '6-BBONE-OUT', '6-SITE-LOCAL', 'prefix-list', 'local-preference', 'backbone'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
