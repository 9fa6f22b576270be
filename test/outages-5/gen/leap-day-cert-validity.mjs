// After Microsoft Azure, 2012-02-29: the guest agent in every new or restarted VM creates a "transfer
// certificate" valid for one year by adding 1 to the year of today's date. On February 29 that date
// (2013-02-29) does not exist, certificate creation threw, the agent never reported ready, host agents
// gave up after three 25-minute attempts and marked servers for human investigation, and service
// management was disabled while a fixed agent was rolled out. Nothing was changed: the calendar reached
// a date the code had never seen.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'leap-day-cert-validity';
export const source = 'Microsoft Azure, "Summary of Windows Azure Service Disruption on Feb 29th, 2012" (Azure blog, 2012-03-09)';

export function build() {
  const I = new Incident({ seed: 20120229, company: 'Stratusfield', domain: 'stratusfield.net' });
  I.person('oncall', 'Priya Raghunathan', { login: 'praghunathan' });
  I.person('ic', 'Stefan Holmberg', { login: 'sholmberg' });
  I.person('agent', 'Lucía Ferreira', { login: 'lferreira' });
  I.person('fabric', 'Daniel Okafor', { login: 'dokafor' });
  I.person('portal', 'Hana Kobayashi', { login: 'hkobayashi' });
  const at = (t) => ms(t.length <= 8 ? `2012-02-29T${t}Z` : t);
  const from = at('2012-02-28T21:00:00Z'), to = at('14:00:00');
  const onset = at('00:00:30'), page = at('00:41:10'), ack = at('00:42:05'), smOff = at('02:57:00'), hotfix = at('09:40:00'), resolve = at('13:05:40');

  const GA = 'stratusfield/guest-agent';
  const latent = I.commit(GA, { message: 'Transfer cert: issue for one year instead of 30 days (fewer renewals on long-running roles)', author: 'agent', at: ms('2011-10-18T10:00:00Z'), files: [
    { filename: 'src/GuestAgent/Security/TransferCertificate.cs', patch: '@@ -41,7 +41,7 @@ internal static X509Certificate2 Create(string subject)\n             DateTime now = DateTime.UtcNow;\n             DateTime validFrom = now.Date;\n-            DateTime validTo = validFrom.AddDays(30);\n+            DateTime validTo = new DateTime(now.Year + 1, now.Month, now.Day);\n             return CertificateFactory.SelfSigned(subject, validFrom, validTo, KeyUsage.KeyEncipherment);' },
  ] });
  I.deploy(GA, { env: 'production', ref: 'ga-2.1.1103', description: 'guest agent 2.1.1103 (all clusters, staged)', createdAt: ms('2011-11-02T08:00:00Z'), finishedAt: ms('2011-11-09T17:12:44Z') });
  I.commit('stratusfield/fabric-controller', { message: 'FC: log node heartbeat gaps above 30s at info', author: 'fabric', at: ms('2012-02-27T15:00:00Z'), files: [{ filename: 'src/Fabric/Node/HeartbeatMonitor.cs', patch: '@@ -88,1 +88,2 @@\n+            if (gap > TimeSpan.FromSeconds(30)) log.Info("heartbeat gap {0} on {1}", gap, node);' }] });
  I.deploy('stratusfield/fabric-controller', { env: 'prod-all-regions', ref: 'fc-5.3.2202', description: 'fabric controller 5.3.2202', createdAt: at('2012-02-28T22:10:00Z'), finishedAt: at('2012-02-28T22:41:27Z'), creator: 'dokafor' });
  I.changeEvent({ at: at('2012-02-28T23:38:20Z'), summary: 'Portal: default storage account quota raised 100 TB -> 200 TB for new subscriptions', integration: 'portal-admin', services: ['portal'], custom_details: { setting: 'storage.default_quota_tb', from: 100, to: 200 } });
  const fix = I.commit(GA, { message: 'Transfer cert: compute validTo with AddYears(1) (Feb 29 -> Feb 28)', author: 'agent', at: at('05:20:00'), files: [{ filename: 'src/GuestAgent/Security/TransferCertificate.cs', patch: '@@ -43,1 +43,1 @@\n-            DateTime validTo = new DateTime(now.Year + 1, now.Month, now.Day);\n+            DateTime validTo = validFrom.AddYears(1);' }] });
  I.deploy(GA, { env: 'production', ref: 'ga-2.1.1103-hf1', description: 'guest agent hotfix (emergency, all clusters)', createdAt: at('07:55:00'), finishedAt: hotfix, creator: 'lferreira', commits: [fix] });

  const broken = (t) => (t < onset ? 0 : t < hotfix ? 1 : Math.max(0, 1 - (t - hotfix) / (150 * MIN)));
  I.series({ metric: 'guestagent.transfer_cert.failures', expression: 'sum:guestagent.transfer_cert.failures{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'failure', fn: (t) => I.noise(0.3, 1) + broken(t) * I.noise(t < smOff ? 1400 : 260, 0.08) });
  I.series({ metric: 'fabric.nodes.human_investigate', expression: 'sum:fabric.nodes.human_investigate{*}', scope: '*', interval: 300, from, to, fn: (t) => (t < onset + 75 * MIN ? I.int(0, 2) : Math.min(2200, (t - onset - 75 * MIN) / MIN * 14) * (t < hotfix ? 1 : Math.max(0.05, 1 - (t - hotfix) / (200 * MIN)))) });
  I.ddEvent({ at: at('2012-02-28T22:41:27Z'), title: 'fabric-controller 5.3.2202 deployed', source_type_name: 'deploy', tags: ['service:fabric-controller'] });
  I.ddEvent({ at: smOff, title: 'Service management disabled in all regions (create/update/scale blocked)', alert_type: 'warning', source_type_name: 'ops', tags: ['service:service-management'] });

  const hosts = ['fc-nw-node-2211', 'fc-ne-node-0914', 'fc-sc-node-3307', 'fc-ea-node-1120'];
  I.logsBetween(onset, hotfix + 60 * MIN, 120, 'guest-agent', 'error', hosts, () => I.pick([
    'Failed to create transfer certificate: System.ArgumentOutOfRangeException: Year, Month, and Day parameters describe an un-representable DateTime.\n   at System.DateTime..ctor(Int32 year, Int32 month, Int32 day)\n   at GuestAgent.Security.TransferCertificate.Create(String subject) in TransferCertificate.cs:line 44\n   at GuestAgent.Startup.InitializeRole()',
    'GA init aborted: transfer certificate unavailable; role will not report Ready']));
  I.logsBetween(onset + 25 * MIN, hotfix, 60, 'host-agent', 'warn', hosts, () => `guest ${I.hex(8)} did not report Ready within 25 min (attempt ${I.int(1, 3)}/3)`);
  I.logsBetween(onset + 75 * MIN, hotfix, 40, 'fabric-controller', 'error', ['fc-nw-01', 'fc-sc-03'], () => `node ${I.pick(hosts)} moved to HumanInvestigate after 3 failed guest initializations`);
  I.logsBetween(from, to, 60, 'portal', 'info', ['portal-web-3', 'portal-web-8'], () => `GET /subscriptions/${I.hex(8)}/services 200 ${I.int(30, 240)}ms`);
  I.log(at('2012-02-28T23:10:00Z'), 'fabric-controller', 'info', 'fc-nw-01', `diagnostics upload DefaultEndpointsProtocol=https;AccountName=fcdiag;AccountKey=${I.secret('q8Vx2StrfLd+Kp0wR7mZbA3nEe1YHtU9cJ4oGsi6lQ==')}`);

  I.say(at('00:43:00'), 'oncall', 'ack. new VM deployments and restarts hang in every region, guest agents never report ready');
  const th = I.say(at('00:44:30'), 'fabric', 'FC 5.3.2202 went out 22:41 last night. roll it back?');
  I.say(at('00:46:10'), 'agent', 'the failure is inside the guest: TransferCertificate.Create throws "un-representable DateTime". FC only logs heartbeat gaps in that build, and it ran 80 min clean', { thread: th });
  I.say(at('00:49:00'), 'portal', 'I raised the default storage quota at 23:38, anything to do with provisioning?');
  I.say(at('00:51:30'), 'agent', 'no. validTo = new DateTime(now.Year + 1, now.Month, now.Day). today is Feb 29, so 2013-02-29. first failure 00:00:31 UTC. the code has been in every GA since November, this is the first leap day it meets');
  I.say(at('01:20:00'), 'fabric', 'host agents retry 3 x 25 min then mark the server HumanInvestigate. HI count climbing, this will cascade');
  I.say(at('03:00:00'), 'ic', 'IC. disabled service management everywhere at 02:57 so customers stop triggering new guest inits. hotfix GA with AddYears(1) in test');
  I.say(at('09:45:00'), 'agent', 'hotfix GA rolled to all clusters 09:40, new inits succeed');
  I.say(at('13:05:00'), 'ic', 'HI nodes recovered, service management re-enabled. resolving. follow-ups: date arithmetic review, time-travel tests for Feb 29 and Dec 31');

  return finish(I, { page, ack, resolve, monitor: 'guest agent transfer certificate failures > 50/min', service: 'guest-agent', number: 12229, opsgenie: true, ogId: '4d2a1c77-90b1-4e0a-b8f5-7c2e11a0d9f3', oncall: 'oncall', ic: 'ic',
    notes: [[at('01:00:00'), 'Guest agent transfer cert: valid-to of 2013-02-29 is not a date; every guest init fails. Fix in progress.']],
    channel: { id: 'C0STFLEAP', name: 'inc-guest-agent' }, family: 'latent-defect', trigger: null,
    latent: { repo: GA, sha: latent }, metric: 'guestagent.transfer_cert.failures', onset, terms: ['leap day', 'transfer certificate', 'February 29', 'DateTime', 'guest agent'] });
}
