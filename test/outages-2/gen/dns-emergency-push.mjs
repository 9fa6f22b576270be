// After Salesforce, 2021-05-11: a DNS configuration change was pushed to every data centre at once
// through the emergency break-fix path (no staggering). The push tool's restart step gives up after a
// fixed timeout and, under production query load, left BIND stopped on most name servers; internal
// name resolution failed everywhere, including for the tools needed to fix it.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'dns-emergency-push';
export const source = 'Salesforce, "Root Cause Analysis: Salesforce Service Disruption, May 11, 2021" (status.salesforce.com / help article 000359938, 2021-05-18) and press coverage of the EBF process';

export function build() {
  const I = new Incident({ seed: 210511, company: 'Stratoforce', domain: 'stratoforce.com' });
  I.person('oncall', 'Meera Pillai', { login: 'mpillai' });
  I.person('ic', 'Thomas Okonkwo', { login: 'tokonkwo-sre' });
  I.person('dns', 'Liam Gallagher', { login: 'lgallagher' });
  I.person('dns2', 'Ingrid Holm', { login: 'iholm' });
  I.person('app', 'Rafael Souza', { login: 'rsouza' });
  I.person('cdn', 'Chen Wei', { login: 'cwei-edge' });

  const from = ms('2021-05-11T18:00:00Z');
  const to = ms('2021-05-12T03:00:00Z');
  const pushDone = ms('2021-05-11T21:08:41Z');
  const onset = ms('2021-05-11T21:09:00Z');
  const recovered = ms('2021-05-12T01:56:00Z');
  const page = ms('2021-05-11T21:11:18Z');
  const ack = ms('2021-05-11T21:12:30Z');
  const resolve = ms('2021-05-12T02:35:44Z');

  // ---- dns-tooling: the restart step with a fixed timeout (a year old)
  const DT = 'stratoforce/dns-tooling';
  const latent = I.commit(DT, { message: 'push-and-reload: bound the named restart to 30s so pushes never hang\n\nA stuck restart blocked the whole push for 40 minutes last week. Give up after\n30s and report; the next push will restart it.', author: 'dns2', at: ms('2020-04-21T10:00:00Z'), files: [
    { filename: 'bin/push-and-reload.sh', patch: '@@ -48,9 +48,12 @@ install_config() {\n   cp "$STAGE/named.conf" /etc/named.conf\n-  systemctl restart named\n+  systemctl stop named\n+  if ! timeout 30 systemctl start named; then\n+    log "named restart exceeded 30s timeout; aborting, service left stopped"\n+    return 0\n+  fi\n   log "named restarted"\n }' },
  ] });
  I.deploy(DT, { env: 'dns-fleet', ref: 'dt-1.7.0', description: 'dns-tooling 1.7.0', createdAt: ms('2020-04-22T09:00:00Z'), finishedAt: ms('2020-04-22T09:31:02Z') });

  // ---- dns-config: a normal staggered push in the morning, the emergency push, the failed rollback
  const DC = 'stratoforce/dns-config';
  I.commit(DC, { message: 'Add CNAME for status-api.stratoforce.com', author: 'dns', at: ms('2021-05-11T09:40:00Z'), files: [
    { filename: 'zones/stratoforce.com.zone', patch: '@@ -210,6 +210,7 @@ status        IN CNAME status.edge.stratoforce.net.\n+status-api    IN CNAME status-api.edge.stratoforce.net.\n trust         IN CNAME trust.edge.stratoforce.net.' },
  ] });
  const prevSha = I.repo(DC).commits[0].sha;
  I.deploy(DC, { env: 'all-datacenters', ref: 'dnsc-2021.05.11.1', description: 'dns-config dnsc-2021.05.11.1 (staggered: 1 DC, then 25%, then all)', createdAt: ms('2021-05-11T10:00:00Z'), finishedAt: ms('2021-05-11T13:12:40Z') });
  const culprit = I.commit(DC, { message: 'EBF-88213: stub zone for partnerlink.int and larger resolver cache\n\nEmergency break-fix for partner sync failures (case 41277): resolve\npartnerlink.int via the partner\'s servers and raise max-cache-size.', author: 'dns', at: ms('2021-05-11T20:41:00Z'), files: [
    { filename: 'named/named.conf.options', patch: '@@ -12,7 +12,7 @@ options {\n     recursion yes;\n-    max-cache-size 2g;\n+    max-cache-size 6g;\n     max-cache-ttl 3600;' },
    { filename: 'named/named.conf.local', patch: '@@ -30,3 +30,8 @@ zone "int.stratoforce.com" {\n     type slave;\n     masters { 10.1.0.53; 10.2.0.53; };\n };\n+\n+zone "partnerlink.int" {\n+    type stub;\n+    masters { 172.31.200.10; 172.31.200.11; };\n+};' },
  ] });
  const ebf = I.deploy(DC, { env: 'all-datacenters', ref: 'dnsc-ebf-88213', description: 'EMERGENCY BREAK-FIX EBF-88213: push to all data centers in parallel (staggering bypassed)', createdAt: ms('2021-05-11T21:07:20Z'), finishedAt: pushDone, commits: [culprit] });
  I.deploy(DC, { env: 'all-datacenters', ref: 'dnsc-2021.05.11.1', description: 'rollback to dnsc-2021.05.11.1', createdAt: ms('2021-05-11T22:31:00Z'), finishedAt: ms('2021-05-11T22:44:13Z'), state: 'failure', sha: prevSha, commits: [] });

  // ---- core-app release before, innocent
  I.commit('stratoforce/core-app', { message: 'Reports: stream CSV export instead of buffering', author: 'app', at: ms('2021-05-10T15:00:00Z'), files: [
    { filename: 'reports/src/main/java/com/stratoforce/reports/CsvExport.java', patch: '@@ -40,8 +40,7 @@ public final class CsvExport {\n-        String csv = render(rows);\n-        out.write(csv.getBytes(UTF_8));\n+        try (Writer w = new OutputStreamWriter(out, UTF_8)) { render(rows, w); }' },
  ] });
  const appDeploy = I.deploy('stratoforce/core-app', { env: 'production', ref: 'r232.14', description: 'core-app r232.14 (patch release)', createdAt: ms('2021-05-11T20:10:00Z'), finishedAt: ms('2021-05-11T20:42:55Z') });
  I.changeEvent({ at: ms('2021-05-11T21:08:50Z'), summary: 'CDN cache purge: static.stratoforce.com /assets/lightning/*', integration: 'edge-console', services: ['static-assets'], custom_details: { host: 'static.stratoforce.com', path: '/assets/lightning/*', requested_by: 'release-automation' } });

  // ---- Datadog
  const down = (t) => t >= onset && t < recovered;
  const partial = (t) => (down(t) ? (t < ms('2021-05-11T23:20:00Z') ? 1 : Math.max(0.1, 1 - (t - ms('2021-05-11T23:20:00Z')) / (160 * MIN))) : 0);
  I.series({ metric: 'core_app.requests.errors', expression: 'sum:core_app.requests.errors{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(400, 0.2) + partial(t) * I.noise(1_300_000, 0.06) });
  I.series({ metric: 'dns.named.running', expression: 'sum:dns.named.running{env:production}', scope: 'env:production', interval: 30, from, to, unit: 'host', fn: (t) => t < pushDone - 20 * SEC ? 412 : t < recovered ? Math.round(412 - 371 * partial(t)) : 412 });
  I.series({ metric: 'dns.queries.servfail', expression: 'sum:dns.queries.servfail{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'query', fn: (t) => I.noise(200, 0.3) + partial(t) * I.noise(2_400_000, 0.05) });
  I.ddEvent({ at: appDeploy.finishedAt, title: 'Deployed core-app r232.14', source_type_name: 'deploy', tags: ['service:core-app', 'env:production', 'repo:stratoforce/core-app'] });
  I.ddEvent({ at: ms('2021-05-11T21:10:50Z'), title: '[P1] Triggered: core-app error rate > 5% (all pods)', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:core-app'] });

  // ---- logs
  const ns = ['ns-iad1-04', 'ns-phx2-11', 'ns-fra3-02', 'ns-tyo1-07', 'ns-syd1-03'];
  for (const [i, h] of ns.entries()) {
    const t0 = ms('2021-05-11T21:07:58Z') + i * 2 * SEC;
    I.log(t0, 'push-and-reload', 'info', h, 'EBF-88213: installing named.conf from dnsc-ebf-88213; stopping named (query load 38-44k qps)');
    I.log(t0 + 31 * SEC, 'push-and-reload', i === 3 ? 'info' : 'warn', h, i === 3 ? 'named restarted' : 'named restart exceeded 30s timeout; aborting, service left stopped (exit 0)');
  }
  I.logsBetween(onset, recovered, 200, 'core-app', 'error', ['app-na44-0317', 'app-eu19-0022', 'app-ap7-0145'], () => `java.net.UnknownHostException: ${I.pick(['db-pod-na44', 'cache-eu19', 'search-ap7', 'auth'])}.int.stratoforce.com: Temporary failure in name resolution\n\tat java.base/java.net.Inet6AddressImpl.lookupAllHostAddr(Native Method)\n\tat java.base/java.net.InetAddress.getAllByName0(InetAddress.java:1519)\n\tat com.stratoforce.db.PodRouter.connect(PodRouter.java:88)`);
  I.logsBetween(from, to, 180, 'core-app', 'info', ['app-na44-0317', 'app-eu19-0022'], () => `${I.pick(['GET /lightning/r/Account', 'POST /services/data/v52.0/sobjects/Lead', 'GET /services/data/v52.0/query'])} 200 ${I.int(30, 400)}ms`);
  I.log(ms('2021-05-11T22:44:10Z'), 'deployer', 'error', 'deploy-ctl-2', 'rollback dnsc-2021.05.11.1 failed: could not resolve ns-*.int.stratoforce.com to push config (SERVFAIL)');
  I.log(ms('2021-05-11T23:05:00Z'), 'oob-console', 'info', 'oob-iad1', `console session opened to ns-iad1-04 via ipmi user=admin password=${I.secret('Str4t0!Ipmi#Oob2021')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] core-app error rate > 5% (all pods)', 'core-app');
  I.pdNotify(page + 600, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2021-05-11T21:15:00Z'), 'ic');
  I.pdNote(ms('2021-05-11T21:40:00Z'), 'ic', 'Internal DNS down in every DC. EBF-88213 pushed to all DCs at 21:08; push-and-reload left named stopped on most name servers (restart timeout).');
  I.pdNote(ms('2021-05-11T22:50:00Z'), 'ic', 'Rollback deploy failed: deployer cannot resolve the name servers. Restarting named by hand through OOB consoles, DC by DC.');
  I.pdNote(ms('2021-05-12T02:00:00Z'), 'ic', 'named running on all name servers since 01:56. Error rate at baseline.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2021-05-${t}Z`);
  I.bot(at('11T21:11:20'), 'PagerDuty', ':rotating_light: *Triggered* #60551 [P1] core-app error rate > 5% (all pods)');
  I.say(at('11T21:13:00'), 'oncall', 'ack. core-app failing in every DC: UnknownHostException, temporary failure in name resolution');
  const th = I.say(at('11T21:14:10'), 'app', 'r232.14 finished 20:42. CSV export change only. roll back?');
  I.say(at('11T21:15:00'), 'oncall', 'nothing in the app resolves anything, including things r232.14 never touches. this is DNS', { thread: th });
  I.say(at('11T21:16:30'), 'cdn', 'CDN purge for static assets ran 21:08:50, could that be it?');
  I.say(at('11T21:17:20'), 'oncall', 'the purge is for public static content. our failures are internal *.int names');
  I.say(at('11T21:18:45'), 'ic', 'IC. DDoS on the resolvers?');
  I.say(at('11T21:21:00'), 'dns2', 'no: named is not running on ~370 of 412 name servers. it is not overloaded, it is stopped');
  I.say(at('11T21:23:10'), 'dns', 'I pushed EBF-88213 to all DCs at 21:07-21:08 for the partner sync case. emergency path, so no stagger');
  I.say(at('11T21:25:40'), 'dns2', 'push-and-reload logs: "named restart exceeded 30s timeout; aborting, service left stopped". under load named takes longer than 30s to come up, and the script exits 0 so the deploy went green');
  I.say(at('11T21:27:00'), 'ic', 'roll back the config and make sure named gets started');
  I.say(at('11T22:45:00'), 'dns', 'rollback deploy failed, the deployer itself needs DNS to find the name servers');
  I.say(at('11T22:47:30'), 'ic', 'ok, OOB consoles. start named by hand, biggest DCs first. status page is on the same DNS, comms via the backup site');
  I.say(at('12T01:57:10'), 'dns2', 'named running everywhere as of 01:56');
  I.say(at('12T02:34:30'), 'ic', 'resolving. follow-ups: EBF must still stagger, push-and-reload must fail loudly and never leave named stopped, break-glass access without DNS');
  I.bot(at('12T02:35:46'), 'PagerDuty', ':white_check_mark: *Resolved* #60551 [P1] core-app error rate > 5% (all pods)');

  const incident = { id: 'PSF60551', source: 'pagerduty', title: '[P1] core-app error rate > 5% (all pods)', service: 'core-app', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 60551, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://stratoforce.pagerduty.com/incidents/PSF60551' };
  const bundle = I.bundle({ incident, channel: { id: 'C02DNSDOWN', name: 'inc-internal-dns' } });
  const expected = {
    family: 'shared-config',
    trigger: { repo: DC, sha: culprit, deployment_id: ebf.id },
    latent_defect: { repo: DT, sha: latent },
    spike_onset: { metric: 'core_app.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['EBF-88213', 'named', 'BIND', 'push-and-reload', 'timeout', 'all data centers'],
    timeline_must_include: [
      { at: iso(pushDone), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
