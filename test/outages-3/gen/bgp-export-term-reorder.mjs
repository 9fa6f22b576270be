// After Cloudflare, 2022-06-21: a change meant to standardise the BGP export policies on the spines
// reordered the terms, so the REJECT-THE-REST term came before the term that advertises the site-local
// prefixes. Locations on the older architecture were unaffected (different policy); when the staged
// rollout reached the 19 locations on the new mesh architecture, they withdrew their anycast prefixes.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'bgp-export-term-reorder';
export const source = 'Cloudflare, "Cloudflare outage on June 21, 2022" (blog.cloudflare.com, 2022-06-21)';

export function build() {
  const I = new Incident({ seed: 220621, company: 'Nimbusedge', domain: 'nimbusedge.net' });
  I.person('oncall', 'Hannah Lindqvist', { login: 'hlindqvist' });
  I.person('ic', 'Olusegun Bakare', { login: 'obakare-sre' });
  I.person('net', 'Tomasz Wrobel', { login: 'twrobel-net' });
  I.person('net2', 'Aiko Tanaka', { login: 'atanaka' });
  I.person('waf', 'Diego Herrera', { login: 'dherrera' });
  I.person('edge', 'Priya Raman', { login: 'praman' });

  const from = ms('2022-06-21T04:30:00Z');
  const to = ms('2022-06-21T09:00:00Z');
  const stage3Done = ms('2022-06-21T06:26:58Z');
  const onset = ms('2022-06-21T06:27:20Z');
  const page = ms('2022-06-21T06:29:41Z');
  const ack = ms('2022-06-21T06:30:52Z');
  const revertStart = ms('2022-06-21T06:58:00Z');
  const revertDone = ms('2022-06-21T07:42:00Z');
  const resolve = ms('2022-06-21T08:00:09Z');

  // ---- netcfg: the policy standardisation, shipped in three stages; the revert
  const NC = 'nimbusedge/netcfg';
  I.commit(NC, { message: 'Add ams03 spine loopbacks to inventory', author: 'net2', at: ms('2022-06-17T12:00:00Z'), files: [
    { filename: 'inventory/ams03.yaml', patch: '@@ -4,6 +4,8 @@ spines:\n   - name: ams03-spine1\n     loopback: 10.91.3.1\n+  - name: ams03-spine2\n+    loopback: 10.91.3.2' },
  ] });
  const prev = I.repo(NC).head;
  const culprit = I.commit(NC, { message: 'NETCFG-4417: standardise export policy term order on spines\n\nSame term order everywhere makes the policies diffable across generations.\nNo functional change intended.', author: 'net', at: ms('2022-06-20T15:10:00Z'), files: [
    { filename: 'templates/junos/spine/policy-6-DC-EXPORT.j2', patch: '@@ -1,24 +1,24 @@\n policy-statement 6-DC-EXPORT {\n-    term ADV-SITELOCAL {\n-        from {\n-            prefix-list 6-SITE-LOCAL;\n-            community STATIC-ROUTE;\n-        }\n-        then accept;\n-    }\n     term REJECT-THE-REST {\n         then reject;\n     }\n+    term ADV-SITELOCAL {\n+        from {\n+            prefix-list 6-SITE-LOCAL;\n+            community STATIC-ROUTE;\n+        }\n+        then accept;\n+    }\n }' },
  ] });
  const other = I.commit(NC, { message: 'NETCFG-4417: fix description strings on spine export policies', author: 'net', at: ms('2022-06-20T15:22:00Z'), files: [
    { filename: 'templates/junos/spine/interfaces.j2', patch: '@@ -8,3 +8,3 @@\n-    description "to-pop {{ peer }}";\n+    description "spine->{{ peer }} ({{ site }})";' },
  ] });
  I.deploy(NC, { env: 'spines-legacy-canary', ref: 'netcfg-2022.06.21.1', description: 'netcfg 2022.06.21.1 stage 1/3: legacy-architecture canary (sin02)', createdAt: ms('2022-06-21T03:52:00Z'), finishedAt: ms('2022-06-21T03:56:12Z'), commits: [culprit, other] });
  I.deploy(NC, { env: 'spines-legacy-all', ref: 'netcfg-2022.06.21.1', description: 'netcfg 2022.06.21.1 stage 2/3: legacy-architecture locations', createdAt: ms('2022-06-21T06:09:00Z'), finishedAt: ms('2022-06-21T06:17:31Z'), commits: [culprit, other] });
  const stage3 = I.deploy(NC, { env: 'spines-mesh', ref: 'netcfg-2022.06.21.1', description: 'netcfg 2022.06.21.1 stage 3/3: mesh-architecture locations (19 sites, spines)', createdAt: ms('2022-06-21T06:24:40Z'), finishedAt: stage3Done, commits: [culprit, other] });
  const revert = I.commit(NC, { message: 'Revert "NETCFG-4417: standardise export policy term order on spines"', author: 'net2', at: ms('2022-06-21T07:01:00Z'), files: [
    { filename: 'templates/junos/spine/policy-6-DC-EXPORT.j2', patch: '@@ -1,24 +1,24 @@\n policy-statement 6-DC-EXPORT {\n+    term ADV-SITELOCAL {\n+        from {\n+            prefix-list 6-SITE-LOCAL;\n+            community STATIC-ROUTE;\n+        }\n+        then accept;\n+    }\n     term REJECT-THE-REST {\n         then reject;\n     }\n-    term ADV-SITELOCAL {\n-        from {\n-            prefix-list 6-SITE-LOCAL;\n-            community STATIC-ROUTE;\n-        }\n-        then accept;\n-    }\n }' },
  ] });
  I.deploy(NC, { env: 'spines-mesh', ref: 'netcfg-2022.06.21.2', description: 'revert NETCFG-4417 on mesh locations (routers already hand-reverted where reachable)', createdAt: ms('2022-06-21T07:05:00Z'), finishedAt: revertDone, commits: [revert] });
  void prev;

  // ---- innocent: an edge-proxy release, and a WAF ruleset publish just before the onset
  I.commit('nimbusedge/edge-proxy', { message: 'Log upstream TLS session reuse ratio', author: 'edge', at: ms('2022-06-20T10:00:00Z'), files: [
    { filename: 'src/upstream/tls.rs', patch: '@@ -201,6 +201,7 @@ impl UpstreamTls {\n         let sess = self.cache.get(&key);\n+        metrics::counter!("upstream.tls.session_reuse", if sess.is_some() { 1 } else { 0 });' },
  ] });
  const edgeDeploy = I.deploy('nimbusedge/edge-proxy', { env: 'production', ref: 'ep-2022.06.21', description: 'edge-proxy 2022.06.21 (all locations)', createdAt: ms('2022-06-21T05:10:00Z'), finishedAt: ms('2022-06-21T05:41:27Z') });
  I.changeEvent({ at: ms('2022-06-21T06:27:06Z'), summary: 'WAF managed ruleset 2022.06.21-1 published (global)', integration: 'waf-publisher', services: ['waf'], custom_details: { ruleset: 'managed', version: { from: '2022.06.20-2', to: '2022.06.21-1' }, rules_added: 3 } });

  // ---- Datadog
  const mesh = (t) => (t < onset ? 0 : t < revertStart ? 1 : Math.max(0, 1 - (t - revertStart) / (revertDone - revertStart)));
  I.series({ metric: 'edge.requests.failed', expression: 'sum:edge.requests.failed{arch:mesh}.as_count()', scope: 'arch:mesh', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(3000, 0.15) + mesh(t) * I.noise(5_200_000, 0.05) });
  I.series({ metric: 'edge.requests.failed', expression: 'sum:edge.requests.failed{arch:legacy}.as_count()', scope: 'arch:legacy', interval: 20, from, to, unit: 'request', fn: () => I.noise(2400, 0.15) });
  I.series({ metric: 'bgp.prefixes.advertised', expression: 'sum:bgp.prefixes.advertised{role:spine,arch:mesh}', scope: 'arch:mesh,role:spine', interval: 60, from, to, unit: 'prefix', fn: (t) => (t < stage3Done - 40 * SEC ? 1520 : Math.round(1520 - 1490 * mesh(t + 30 * SEC))) });
  I.ddEvent({ at: edgeDeploy.finishedAt, title: 'Deployed edge-proxy 2022.06.21', source_type_name: 'deploy', tags: ['service:edge-proxy', 'env:production'] });
  I.ddEvent({ at: ms('2022-06-21T06:29:30Z'), title: '[P1] Triggered: edge failed requests > 1% (arch:mesh)', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:edge-proxy', 'arch:mesh'] });
  I.snapshot('edge failed requests by arch', 'sum:edge.requests.failed{*} by {arch}.as_count()');

  // ---- logs
  const spines = ['ams03-spine1', 'fra06-spine1', 'lhr02-spine2', 'sin03-spine1', 'ord04-spine1', 'syd02-spine1'];
  for (const [i, h] of spines.entries()) {
    const t0 = ms('2022-06-21T06:25:30Z') + i * 12 * SEC;
    I.log(t0, 'netcfg-push', 'info', h, 'commit confirmed 5 (netcfg-2022.06.21.1): [edit policy-options policy-statement 6-DC-EXPORT] term ADV-SITELOCAL moved after term REJECT-THE-REST');
    I.log(t0 + 4 * SEC, 'rpd', 'warn', h, `bgp_rt_withdraw: withdrawing ${I.int(70, 90)} prefixes (policy 6-DC-EXPORT rejected) to peers in group EDGE-UPSTREAM`);
  }
  I.log(ms('2022-06-21T03:56:20Z'), 'netcfg-push', 'info', 'sin02-spine1', 'commit confirmed 5 (netcfg-2022.06.21.1): legacy policy 4-POP-EXPORT unchanged; 6-DC-EXPORT not present on legacy architecture');
  I.log(ms('2022-06-21T06:51:10Z'), 'netcfg-push', 'info', 'ams03-spine1', `manual session user=${I.p('net2').slack}: deactivate policy-options policy-statement 6-DC-EXPORT term REJECT-THE-REST; commit`);
  I.log(ms('2022-06-21T06:51:40Z'), 'rpd', 'info', 'ams03-spine1', 'bgp_rt_send: advertising 82 prefixes to peers in group EDGE-UPSTREAM');
  I.logsBetween(onset, revertDone, 160, 'edge-proxy', 'error', ['ams03-m12', 'fra06-m31', 'sin03-m07'], () => `health: anycast probe failed from ${I.pick(['transit-a', 'transit-b', 'ix-peer'])}: no route to ${I.pick(['104.18.', '172.64.'])}${I.int(0, 255)}.${I.int(1, 254)} (site prefixes withdrawn)`);
  I.logsBetween(from, to, 160, 'edge-proxy', 'info', ['ams03-m12', 'iad01-l04', 'sin03-m07'], () => `GET / 200 ${I.int(3, 90)}ms cache=${I.pick(['HIT', 'MISS', 'DYNAMIC'])}`);
  I.log(ms('2022-06-21T07:15:00Z'), 'oob-gw', 'info', 'oob-lhr02', `console login lhr02-spine2 via oob user=netops password=${I.secret('Nb!spine-Oob#2022q2')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] edge failed requests > 1% (arch:mesh)', 'edge-proxy');
  I.pdNotify(page + 500, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2022-06-21T06:32:00Z'), 'ic');
  I.pdNote(ms('2022-06-21T06:59:00Z'), 'ic', 'Cause: netcfg 2022.06.21.1 stage 3 put REJECT-THE-REST before ADV-SITELOCAL in 6-DC-EXPORT on the mesh spines; site prefixes withdrawn at 19 locations. Reverting router by router.');
  I.pdNote(ms('2022-06-21T07:43:00Z'), 'ic', 'Last revert done 07:42. Mesh failures back to baseline.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2022-06-21T${t}Z`);
  I.bot(at('06:29:44'), 'PagerDuty', ':rotating_light: *Triggered* #88104 [P1] edge failed requests > 1% (arch:mesh)');
  I.say(at('06:31:10'), 'oncall', 'ack. 19 locations not reachable from outside, all of them mesh. legacy sites fine');
  const th = I.say(at('06:32:05'), 'waf', 'we published managed ruleset 2022.06.21-1 at 06:27, right before. rolling it back?');
  I.say(at('06:33:00'), 'oncall', 'the rules are global and legacy sites are fine. and these are not 403s, traffic never reaches us: probes say no route', { thread: th });
  I.say(at('06:34:30'), 'edge', 'edge-proxy 2022.06.21 went out 05:41 everywhere, also legacy. not it');
  I.say(at('06:36:15'), 'ic', 'IC. transit provider issue?');
  I.say(at('06:38:40'), 'net2', 'no: our spines withdrew the site prefixes themselves. rpd logs "withdrawing … (policy 6-DC-EXPORT rejected)" right after the netcfg push');
  I.say(at('06:41:00'), 'net', 'stage 3 of netcfg-2022.06.21.1 hit the mesh spines 06:25-06:27. NETCFG-4417 reordered the terms in 6-DC-EXPORT. legacy uses 4-POP-EXPORT, so stages 1-2 changed nothing real');
  I.say(at('06:44:20'), 'net', 'REJECT-THE-REST now sits before ADV-SITELOCAL, so the site-local prefixes never get accepted. my bad ordering');
  I.say(at('06:52:10'), 'net2', 'deactivated REJECT-THE-REST on ams03-spine1 by hand, prefixes back, ams03 serving again. confirmed');
  I.say(at('06:58:30'), 'ic', 'revert everywhere. routers we cannot reach through the automation: oob. (oob creds in vault, not here please)');
  I.say(at('07:42:40'), 'net2', 'last mesh spine reverted. revert also merged and deployed through netcfg');
  I.say(at('07:59:00'), 'ic', 'resolving. follow-ups: stage changes by architecture, policy diff linter for term order, faster oob access');
  I.bot(at('08:00:12'), 'PagerDuty', ':white_check_mark: *Resolved* #88104 [P1] edge failed requests > 1% (arch:mesh)');

  const incident = { id: 'Q2NE88104', source: 'pagerduty', title: '[P1] edge failed requests > 1% (arch:mesh)', service: 'edge-proxy', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 88104, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://nimbusedge.pagerduty.com/incidents/Q2NE88104' };
  const bundle = I.bundle({ incident, channel: { id: 'C03EDGEINC', name: 'inc-edge-mesh' } });
  const expected = {
    family: 'cross-repo-infra',
    trigger: { repo: NC, sha: culprit, deployment_id: stage3.id },
    spike_onset: { metric: 'edge.requests.failed', scope: 'arch:mesh', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['6-DC-EXPORT', 'REJECT-THE-REST', 'ADV-SITELOCAL', 'term order', 'withdr', 'NETCFG-4417'],
    timeline_must_include: [
      { at: iso(stage3Done), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
