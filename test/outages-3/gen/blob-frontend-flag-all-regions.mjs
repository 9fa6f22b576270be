// After Microsoft Azure, 2014-11-19: a performance change for the storage front ends, already enabled
// for weeks on Table front ends, was switched on for Blob front ends in every region at once instead of
// by flighting. On Blob front ends it hit a code path that looped forever; they stopped serving. The
// configuration was reverted, but the front ends had to be restarted to recover.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'blob-frontend-flag-all-regions';
export const source = 'Microsoft Azure, "Final Root Cause Analysis and Improvement Areas: Nov 18 Azure Storage Service Interruption" (azure.microsoft.com/blog, 2014-12-17)';

export function build() {
  const I = new Incident({ seed: 141119, company: 'Cirrusvault', domain: 'cirrusvault.net' });
  I.person('oncall', 'Patrick Byrne', { login: 'pbyrne' });
  I.person('ic', 'Lena Hoffmann', { login: 'lhoffmann' });
  I.person('st', 'Vikram Iyer', { login: 'viyer-storage' });
  I.person('st2', 'Sofia Lindgren', { login: 'slindgren' });
  I.person('vm', 'Omar Haddad', { login: 'ohaddad' });
  I.person('pki', 'Claire Dubois', { login: 'cdubois' });

  const from = ms('2014-11-18T22:00:00Z');
  const to = ms('2014-11-19T08:00:00Z');
  const enabled = ms('2014-11-19T00:49:31Z');
  const onset = ms('2014-11-19T00:50:20Z');
  const page = ms('2014-11-19T00:52:37Z');
  const ack = ms('2014-11-19T00:53:40Z');
  const revertDone = ms('2014-11-19T01:31:06Z');
  const restartsDone = ms('2014-11-19T05:40:00Z');
  const resolve = ms('2014-11-19T11:45:12Z');

  // ---- storage-frontend: the flag-gated cache (October), shipped everywhere
  const SF = 'cirrusvault/storage-frontend';
  const latent = I.commit(SF, { message: 'Front end: cache partition-map lookups (flag fe.partition_cache)\n\nCuts partition master round trips ~30% on Table. Off by default; enable per role.', author: 'st2', at: ms('2014-10-06T15:00:00Z'), files: [
    { filename: 'src/Frontend/PartitionCache.cs', status: 'added', patch: '@@ -0,0 +1,22 @@\n+public sealed class PartitionCache\n+{\n+    public PartitionEntry Lookup(PartitionKey key)\n+    {\n+        var range = _ranges.Floor(key);\n+        // ranges are contiguous for Table keys; walk until the range covers the key\n+        while (!range.Contains(key))\n+        {\n+            range = _ranges.Floor(range.Low);\n+        }\n+        return range.Entry;\n+    }\n+}' },
  ] });
  I.deploy(SF, { env: 'production-all-regions', ref: 'fe-14.10.3', description: 'storage front end 14.10.3 (flighted, 5 days)', createdAt: ms('2014-10-13T08:00:00Z'), finishedAt: ms('2014-10-18T17:10:40Z') });

  // ---- storage-config: Table enable in October, the Blob enable (culprit), the revert
  const SC = 'cirrusvault/storage-config';
  I.commit(SC, { message: 'Enable fe.partition_cache on Table front ends', author: 'st2', at: ms('2014-10-20T09:00:00Z'), files: [
    { filename: 'roles/table-frontend/flags.ini', patch: '@@ -7,3 +7,4 @@\n [fe]\n+partition_cache = true' },
  ] });
  I.deploy(SC, { env: 'production-all-regions', ref: 'sc-1020', description: 'storage-config sc-1020 (table front ends, flighted)', createdAt: ms('2014-10-20T10:00:00Z'), finishedAt: ms('2014-10-22T16:40:00Z') });
  const culprit = I.commit(SC, { message: 'Enable fe.partition_cache on Blob front ends\n\nRunning on Table front ends for four weeks without issues.', author: 'st', at: ms('2014-11-18T23:40:00Z'), files: [
    { filename: 'roles/blob-frontend/flags.ini', patch: '@@ -5,3 +5,4 @@\n [fe]\n max_inflight = 4096\n+partition_cache = true' },
  ] });
  const enable = I.deploy(SC, { env: 'production-all-regions', ref: 'sc-1118', description: 'storage-config sc-1118 (blob front ends, all regions in one pass)', createdAt: ms('2014-11-19T00:31:00Z'), finishedAt: enabled });
  const revert = I.commit(SC, { message: 'Revert "Enable fe.partition_cache on Blob front ends"', author: 'st', at: ms('2014-11-19T01:12:00Z'), files: [
    { filename: 'roles/blob-frontend/flags.ini', patch: '@@ -5,4 +5,3 @@\n [fe]\n max_inflight = 4096\n-partition_cache = true' },
  ] });
  I.deploy(SC, { env: 'production-all-regions', ref: 'sc-1118-revert', description: 'revert sc-1118 (blob front ends)', createdAt: ms('2014-11-19T01:15:00Z'), finishedAt: revertDone, commits: [revert] });

  // ---- innocent: VM agent release, a certificate rotation right after the enable
  I.commit('cirrusvault/vm-agent', { message: 'Guest agent: report disk latency histogram', author: 'vm', at: ms('2014-11-17T12:00:00Z'), files: [
    { filename: 'agent/diag/disk.go', patch: '@@ -40,6 +40,8 @@ func collect() Report {\n+\tr.DiskLatency = histogram(samples, 1, 2, 5, 10, 50, 200)' },
  ] });
  const vmDeploy = I.deploy('cirrusvault/vm-agent', { env: 'production', ref: 'vmagent-2.7.1', description: 'vm-agent 2.7.1', createdAt: ms('2014-11-19T00:10:00Z'), finishedAt: ms('2014-11-19T00:33:52Z') });
  I.changeEvent({ at: ms('2014-11-19T00:50:02Z'), summary: 'TLS certificate rotated on table front ends (*.table.core.cirrusvault.net)', integration: 'cert-rotator', services: ['table-frontend'], custom_details: { hosts: '*.table.core.cirrusvault.net', thumbprint: { from: 'A1F3…9C20', to: '5E7B…D411' } } });

  // ---- Datadog
  const bad = (t) => (t < onset ? 0 : t < revertDone + 10 * MIN ? 1 : Math.max(0.05, 1 - (t - revertDone - 10 * MIN) / (restartsDone - revertDone - 10 * MIN)));
  I.series({ metric: 'storage.blob.requests.failed', expression: 'sum:storage.blob.requests.failed{*}.as_count()', scope: '*', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(1500, 0.2) + bad(t) * I.noise(4_600_000, 0.05) });
  I.series({ metric: 'storage.table.requests.failed', expression: 'sum:storage.table.requests.failed{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'request', fn: () => I.noise(900, 0.2) });
  I.series({ metric: 'system.cpu.user', expression: 'avg:system.cpu.user{role:blob-frontend}', scope: 'role:blob-frontend', interval: 60, from, to, unit: 'percent', fn: (t) => (bad(t) > 0.1 ? I.noise(99, 0.01) : I.noise(35, 0.15)) });
  I.ddEvent({ at: vmDeploy.finishedAt, title: 'Deployed vm-agent 2.7.1', source_type_name: 'deploy', tags: ['service:vm-agent'] });
  I.ddEvent({ at: ms('2014-11-19T00:52:20Z'), title: '[Sev0] Triggered: blob availability < 99%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:blob'] });

  // ---- logs
  const bfe = ['bfe-us-east-0412', 'bfe-eu-west-0077', 'bfe-asia-se-0219', 'bfe-us-west-0150'];
  for (const [i, h] of bfe.entries()) {
    I.log(enabled - 40 * SEC + i * 5 * SEC, 'config-agent', 'info', h, 'flags reloaded from sc-1118: fe.partition_cache false -> true');
    I.log(onset + i * 7 * SEC, 'blob-frontend', 'error', h, `watchdog: worker threads stuck ${I.int(28, 40)}s in Cirrusvault.Frontend.PartitionCache.Lookup(PartitionKey) [PartitionCache.cs:7] (blob container key range, 64/64 threads)`);
  }
  I.logsBetween(onset, restartsDone, 170, 'blob-frontend', 'error', bfe, () => `GET /${I.pick(['vhds', 'images', 'backups'])}/${I.hex(8)}.blob 503 ServerBusy after 30000ms (no free worker)`);
  I.logsBetween(from, to, 150, 'blob-frontend', 'info', bfe, () => `${I.pick(['GET', 'PUT'])} /${I.pick(['vhds', 'assets'])}/${I.hex(8)} ${I.pick([200, 201, 206])} ${I.int(3, 90)}ms`);
  I.log(ms('2014-11-18T23:05:00Z'), 'config-agent', 'info', 'bfe-us-east-0412', `storage account key for diagnostics loaded: AccountName=cvdiag;AccountKey=${I.secret('q8Zr3uV0tYwX1pL5nK2cB7mE4fG9hJ6aD0sQxCvdiag==')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[Sev0] blob availability < 99%', 'blob-frontend');
  I.pdNotify(page + 700, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2014-11-19T00:58:00Z'), 'ic');
  I.pdNote(ms('2014-11-19T01:20:00Z'), 'ic', 'Blob front ends in all regions stuck in PartitionCache.Lookup since sc-1118 enabled fe.partition_cache on them at 00:49. Revert deploying; front ends need restarts to leave the loop.');
  I.pdNote(ms('2014-11-19T05:45:00Z'), 'ic', 'Restarts complete in all regions; blob failures near baseline. VMs that lost their disks recovering.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2014-11-19T${t}Z`);
  I.bot(at('00:52:40'), 'PagerDuty', ':rotating_light: *Triggered* #14119 [Sev0] blob availability < 99%');
  I.say(at('00:54:00'), 'oncall', 'ack. blob 503 ServerBusy in every region at once. table and queue fine');
  const th = I.say(at('00:55:10'), 'pki', 'I rotated the table front-end cert at 00:50, rolling back?');
  I.say(at('00:56:00'), 'oncall', 'table is healthy and this is blob. leave it', { thread: th });
  I.say(at('00:57:30'), 'vm', 'vm-agent 2.7.1 finished 00:33. VMs are failing now but that is their disks on blob');
  I.say(at('01:01:40'), 'st2', 'blob front ends: all 64 worker threads stuck in PartitionCache.Lookup, CPU 99%. that is the partition cache code from October');
  I.say(at('01:03:20'), 'st', 'I enabled fe.partition_cache for blob front ends in sc-1118, finished 00:49. it went to all regions in one pass, not flighted, since it had run on table for a month');
  I.say(at('01:06:10'), 'st2', 'Lookup walks ranges assuming table key ranges are contiguous. blob container ranges have gaps, the loop never terminates');
  I.say(at('01:08:00'), 'ic', 'IC. revert sc-1118 everywhere, then restart front ends region by region, biggest first');
  I.say(at('01:32:00'), 'st', 'revert deployed 01:31. threads already in the loop stay there, restarting');
  I.say(at('05:41:00'), 'st', 'restarts done in all regions');
  I.say(at('11:44:30'), 'ic', 'VM recovery complete, resolving. follow-ups: config flags flighted like code, the Lookup loop bounded, deployment tooling to refuse all-region config in one pass');
  I.bot(at('11:45:15'), 'PagerDuty', ':white_check_mark: *Resolved* #14119 [Sev0] blob availability < 99%');

  const incident = { id: 'Q8CV14119', source: 'pagerduty', title: '[Sev0] blob availability < 99%', service: 'blob-frontend', severity: 'Sev0', status: 'resolved', urgency: 'high', incident_number: 14119, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://cirrusvault.pagerduty.com/incidents/Q8CV14119' };
  const bundle = I.bundle({ incident, channel: { id: 'C8BLOBSEV0', name: 'sev0-storage' } });
  const expected = {
    family: 'latent-defect',
    trigger: { repo: SC, sha: culprit, deployment_id: enable.id },
    latent_defect: { repo: SF, sha: latent },
    spike_onset: { metric: 'storage.blob.requests.failed', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['partition_cache', 'PartitionCache', 'infinite loop', 'never terminates', 'sc-1118', 'all regions'],
    timeline_must_include: [
      { at: iso(enabled), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
