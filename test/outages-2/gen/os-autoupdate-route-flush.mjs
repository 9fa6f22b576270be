// After Datadog, 2023-03-08: a systemd security update installed by the OS's own unattended-upgrades
// in its 06:00 UTC window restarted systemd-networkd on tens of thousands of Kubernetes nodes, which
// removed the routes the CNI (Cilium) manages; the nodes dropped off the pod network. The update
// went through no deployment or change system.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'os-autoupdate-route-flush';
export const source = 'Datadog, "2023-03-08 Incident: A deep dive into our incident response" and "2023-03-08 Incident: Root cause analysis" (datadoghq.com/blog, 2023-05)';

export function build() {
  const I = new Incident({ seed: 230308, company: 'Telemetra', domain: 'telemetra.dev' });
  I.person('oncall', 'Lucía Fernández', { login: 'lfernandez' });
  I.person('ic', 'Kwame Asante', { login: 'kasante-sre' });
  I.person('k8s', 'Petra Novak', { login: 'pnovak' });
  I.person('net', 'Arjun Mehta', { login: 'amehta-net' });
  I.person('intake', 'Sebastian Vogel', { login: 'svogel' });
  I.person('sec', 'Mei Lin', { login: 'mlin-sec' });

  const from = ms('2023-03-08T03:00:00Z');
  const to = ms('2023-03-08T15:00:00Z');
  const upgrades = ms('2023-03-08T06:00:00Z');
  const onset = ms('2023-03-08T06:01:20Z');
  const page = ms('2023-03-08T06:07:31Z');
  const ack = ms('2023-03-08T06:08:44Z');
  const resolve = ms('2023-03-09T08:58:15Z');
  const recoverFrom = ms('2023-03-08T09:30:00Z');

  // ---- GitHub: a Cilium config change 6 minutes before (innocent), an intake deploy, the post-onset hold on auto-updates
  const CC = 'telemetra/cilium-config';
  I.commit(CC, { message: 'Enable Hubble flow metrics (drop, tcp) on all clusters', author: 'net', at: ms('2023-03-07T17:00:00Z'), files: [
    { filename: 'values/common.yaml', patch: '@@ -14,6 +14,11 @@ cilium:\n   hubble:\n     enabled: true\n+    metrics:\n+      enabled:\n+        - drop\n+        - tcp\n+      serviceMonitor: { enabled: true }\n   routingMode: native' },
  ] });
  const ciliumDeploy = I.deploy(CC, { env: 'prod-all-clusters', ref: 'cc-2023.03.08.1', description: 'cilium-config cc-2023.03.08.1 (helm upgrade, config only)', createdAt: ms('2023-03-08T05:47:00Z'), finishedAt: ms('2023-03-08T05:55:18Z') });
  I.commit('telemetra/intake', { message: 'Batch writer: flush at 4 MiB instead of 2 MiB', author: 'intake', at: ms('2023-03-07T13:00:00Z'), files: [
    { filename: 'pkg/batch/writer.go', patch: '@@ -19,7 +19,7 @@ const (\n-\tmaxBatchBytes = 2 << 20\n+\tmaxBatchBytes = 4 << 20\n \tmaxBatchAge   = 500 * time.Millisecond\n )' },
  ] });
  const intakeDeploy = I.deploy('telemetra/intake', { env: 'production', ref: 'intake-v812', description: 'intake v812', createdAt: ms('2023-03-08T05:21:00Z'), finishedAt: ms('2023-03-08T05:38:42Z') });
  const hold = I.commit('telemetra/host-config', { message: 'Disable unattended-upgrades on every node image and running node\n\nThe 2023-03-08 06:00 window installed systemd 249.11-0ubuntu3.7; restarting systemd-networkd\nflushed the routes Cilium owns. No package updates outside the image pipeline from now on.', author: 'k8s', at: ms('2023-03-08T07:05:00Z'), files: [
    { filename: 'roles/base/files/20auto-upgrades', patch: '@@ -1,2 +1,2 @@\n-APT::Periodic::Update-Package-Lists "1";\n-APT::Periodic::Unattended-Upgrade "1";\n+APT::Periodic::Update-Package-Lists "0";\n+APT::Periodic::Unattended-Upgrade "0";' },
    { filename: 'roles/base/files/10-netplan-foreign-routes.conf', status: 'added', patch: '@@ -0,0 +1,2 @@\n+[Network]\n+ManageForeignRoutes=no' },
  ] });
  I.deploy('telemetra/host-config', { env: 'production', ref: 'hc-5120', description: 'host-config hc-5120 (disable unattended-upgrades, keep foreign routes)', createdAt: ms('2023-03-08T07:20:00Z'), finishedAt: ms('2023-03-08T07:48:09Z'), commits: [hold] });

  // ---- change events: a staged Cilium upgrade in staging (not prod) and the node-pool ami staged for next week
  I.changeEvent({ at: ms('2023-03-08T04:10:00Z'), summary: 'Cilium 1.12.7 rolled out to staging-eu1', integration: 'Argo CD', services: ['k8s-platform'], custom_details: { cluster: 'staging-eu1', chart: { from: '1.12.6', to: '1.12.7' } } });
  I.changeEvent({ at: ms('2023-03-08T05:30:00Z'), summary: 'Node pool image ubuntu-2204-20230306 staged (rollout scheduled 2023-03-13)', integration: 'Terraform Cloud', services: ['k8s-platform'], custom_details: { node_pool: 'general', image: { from: 'ubuntu-2204-20230214', to: 'ubuntu-2204-20230306' }, apply_at: '2023-03-13T09:00:00Z' } });

  // ---- Datadog
  const recovered = (t) => t < recoverFrom ? 0 : Math.min(1, (t - recoverFrom) / (5 * 3600_000));
  const lost = (t) => t < upgrades + 60 * SEC ? 0 : Math.min(1, (t - upgrades - 60 * SEC) / (50 * MIN)) * (1 - recovered(t));
  I.series({ metric: 'intake.api.errors', expression: 'sum:intake.api.errors{env:production,status_class:5xx}.as_count()', scope: 'env:production,status_class:5xx', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(90, 0.3) + lost(t) * I.noise(620000, 0.05) });
  I.series({ metric: 'kubernetes_state.node.by_condition', expression: 'sum:kubernetes_state.node.by_condition{condition:ready,status:false}', scope: 'condition:ready,status:false', interval: 60, from, to, unit: 'node', fn: (t) => Math.round(I.noise(14, 0.3) + lost(t) * 31000) });
  I.series({ metric: 'kubernetes_state.node.by_condition', expression: 'sum:kubernetes_state.node.by_condition{condition:ready,status:false,os:ubuntu-2004}', scope: 'condition:ready,os:ubuntu-2004,status:false', interval: 60, from, to, unit: 'node', fn: () => Math.round(I.noise(3, 0.6)) });
  I.series({ metric: 'cilium.unreachable.nodes', expression: 'avg:cilium.unreachable.nodes{env:production}', scope: 'env:production', interval: 60, from, to, unit: 'node', fn: (t) => I.noise(2, 0.5) + lost(t) * 20500 });
  I.ddEvent({ at: ciliumDeploy.finishedAt, title: 'helm upgrade cilium (cilium-config cc-2023.03.08.1) on 41 clusters', source_type_name: 'deploy', tags: ['service:cilium', 'env:production', 'repo:telemetra/cilium-config'] });
  I.ddEvent({ at: intakeDeploy.finishedAt, title: 'Deployed intake v812', source_type_name: 'deploy', tags: ['service:intake', 'env:production', 'repo:telemetra/intake'] });
  I.ddEvent({ at: ms('2023-03-08T06:06:40Z'), title: '[P1] Triggered: intake 5xx ratio > 5%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:intake'] });

  // ---- logs
  const nodes = ['ip-10-12-4-17', 'ip-10-12-9-203', 'ip-10-40-2-88', 'ip-10-40-7-141', 'ip-10-77-1-9'];
  for (const [i, h] of nodes.entries()) {
    const t0 = upgrades + (i * 7 + 3) * SEC;
    I.log(t0, 'unattended-upgrades', 'info', h, 'Packages that will be upgraded: libnss-systemd libpam-systemd libsystemd0 libudev1 systemd systemd-sysv systemd-timesyncd udev');
    I.log(t0 + 21 * SEC, 'dpkg', 'info', h, 'status installed systemd:amd64 249.11-0ubuntu3.7');
    I.log(t0 + 23 * SEC, 'systemd', 'info', h, 'systemd[1]: Stopping Network Configuration... (systemd-networkd.service restart requested by package postinst)');
    I.log(t0 + 24 * SEC, 'systemd-networkd', 'warn', h, `ens5: Removing foreign route: dst=10.${I.int(100, 250)}.${I.int(0, 255)}.0/24 dev cilium_host proto static (ManageForeignRoutes=yes)`);
    I.log(t0 + 25 * SEC, 'systemd-networkd', 'warn', h, 'cilium_host: Removing foreign route: dst=10.0.0.0/8 via 10.244.0.1 (ManageForeignRoutes=yes)');
    I.log(t0 + 58 * SEC, 'kubelet', 'error', h, 'Node became not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cilium health probe failed');
  }
  I.logsBetween(upgrades + 40 * SEC, recoverFrom + 3 * 3600_000, 150, 'cilium-agent', 'error', nodes, () => `level=warning msg="Unable to reach node health endpoint" error="dial tcp 10.${I.int(12, 80)}.${I.int(0, 255)}.${I.int(1, 254)}:4240: connect: no route to host" subsys=health-server`);
  I.logsBetween(from, to, 180, 'intake', 'info', ['intake-7f8c9-xk2l', 'intake-7f8c9-p0qa'], () => `POST /api/v2/series 202 ${I.int(2, 40)}ms payload=${I.int(20, 900)}KiB`);
  I.logsBetween(onset, recoverFrom + 3 * 3600_000, 180, 'intake', 'error', ['intake-7f8c9-xk2l', 'intake-7f8c9-p0qa'], () => `POST /api/v2/series 503: no healthy upstream (kafka-writer endpoints ready ${I.int(0, 12)}/240)`);
  I.log(ms('2023-03-08T03:12:00Z'), 'node-bootstrap', 'info', 'ip-10-40-7-141', `registered with cluster prod-us1-k7 token=${I.secret('k10a4c8e2f9b7d3e1a5c6f8b2d4e7a9c0b1::server:3f9d1e7a2c5b8f4e6a1d9c7b3e5f2a8d')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] intake 5xx ratio > 5%', 'intake');
  I.pdNotify(page + 600, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2023-03-08T06:12:00Z'), 'ic');
  I.pdNote(ms('2023-03-08T06:58:00Z'), 'ic', 'Tens of thousands of nodes NotReady across regions. Nodes that installed systemd 249.11-0ubuntu3.7 via unattended-upgrades at 06:00 lost their Cilium routes when systemd-networkd restarted. 20.04 pool unaffected.');
  I.pdNote(ms('2023-03-08T07:50:00Z'), 'ic', 'unattended-upgrades disabled fleet-wide (hc-5120). Restoring nodes: restart cilium-agent where reachable, replace the rest.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2023-03-08T${hms}Z`);
  I.bot(at('06:07:33'), 'PagerDuty', ':rotating_light: *Triggered* #90211 [P1] intake 5xx ratio > 5%');
  I.say(at('06:09:10'), 'oncall', 'ack. intake 503s in every region, nodes going NotReady by the thousand');
  const th = I.say(at('06:10:30'), 'intake', 'intake v812 went out 05:38, only a batch size change. happy to roll back');
  I.say(at('06:11:40'), 'oncall', 'this is nodes dying, not intake. kafka-writer and every other workload on those nodes too', { thread: th });
  I.say(at('06:13:05'), 'k8s', 'cilium-config cc-2023.03.08.1 finished 05:55, 6 minutes before. it touched every cluster. suspect #1?');
  I.say(at('06:16:20'), 'net', 'that only turns on hubble metrics, no datapath change. and it also went to the 20.04 GPU pool, which is perfectly fine');
  I.say(at('06:18:00'), 'ic', 'IC. cloud provider issue? three regions and two providers at the same minute is odd for a provider');
  I.say(at('06:21:45'), 'net', 'on a dead node via serial console: routing table has no cilium routes. journal says systemd-networkd restarted at 06:00:26 and removed foreign routes');
  I.say(at('06:23:30'), 'k8s', 'and right before: unattended-upgrades installed systemd 249.11-0ubuntu3.7. the apt timer window is 06:00-07:00 on every 22.04 node');
  I.say(at('06:25:10'), 'sec', 'that is the systemd security update Ubuntu published yesterday. we never turned off unattended-upgrades on the base image');
  I.say(at('06:27:40'), 'ic', 'so the nodes are patching themselves and losing the network, and more will hit it until 07:00. can we stop the timer?');
  I.say(at('06:29:00'), 'k8s', 'not on nodes that are already off the network. pushing a host-config change to disable it + ManageForeignRoutes=no for the rest');
  I.say(at('06:35:20'), 'intake', 'rolling back intake v812 to be safe?');
  I.say(at('06:36:00'), 'ic', 'no, leave it. no change of ours did this');
  I.say(at('07:48:30'), 'k8s', 'hc-5120 applied on all reachable nodes. restarting cilium-agent restores routes on nodes we can reach; the rest get replaced');
  I.say(at('09:40:00'), 'ic', 'recovery under way region by region, compute capacity is the bottleneck now');
  I.bot(ms('2023-03-09T08:58:17Z'), 'PagerDuty', ':white_check_mark: *Resolved* #90211 [P1] intake 5xx ratio > 5%');

  const incident = { id: 'PTM90211', source: 'pagerduty', title: '[P1] intake 5xx ratio > 5%', service: 'intake', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 90211, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://telemetra.pagerduty.com/incidents/PTM90211' };
  const bundle = I.bundle({ incident, channel: { id: 'C04NODESNR', name: 'inc-nodes-notready' } });
  const expected = {
    family: 'unrecorded-change',
    trigger: null,
    spike_onset: { metric: 'intake.api.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['systemd', 'unattended-upgrades', 'systemd-networkd', 'foreign route'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
