// After Reddit, 2023-03-14 ("Pi-day"): upgrading the oldest Kubernetes cluster from 1.23 to 1.24
// removed the deprecated node-role.kubernetes.io/master label. The cluster's Calico BGP config,
// written years earlier, picked its route reflectors by that label, so after the upgrade no node
// peered with any route reflector, pod routes were withdrawn and the cluster's network went dark.
// The cluster was restored from backup to 1.23.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'k8s-upgrade-route-reflector';
export const source = 'Reddit Engineering, "You Broke Reddit: The Pi-Day Outage" (r/RedditEng, 2023-03-27)';

export function build() {
  const I = new Incident({ seed: 230314, company: 'Snoozle', domain: 'snoozle.com' });
  I.person('oncall', 'Hannah Becker', { login: 'hbecker' });
  I.person('ic', 'Mateo García', { login: 'mgarcia-ic' });
  I.person('k8s', 'Oliver Grant', { login: 'ogrant' });
  I.person('k8s2', 'Leila Haddadi', { login: 'lhaddadi' });
  I.person('api', 'Daniel Cho', { login: 'dcho' });
  I.person('net', 'Priyanka Iyer', { login: 'piyer-net' });

  const from = ms('2023-03-14T16:00:00Z');
  const to = ms('2023-03-15T01:30:00Z');
  const upgDone = ms('2023-03-14T19:02:10Z');
  const onset = ms('2023-03-14T19:03:00Z');
  const restored = ms('2023-03-15T00:17:00Z');
  const page = ms('2023-03-14T19:05:39Z');
  const ack = ms('2023-03-14T19:06:20Z');
  const resolve = ms('2023-03-15T00:41:13Z');

  // ---- calico-config: route reflectors chosen by the master label (2019), and the newer clusters' config
  const CAL = 'snoozle/calico-config';
  const latent = I.commit(CAL, { message: 'legacy-prod: route reflectors on the masters, drop the full mesh\n\nFull node-to-node mesh does not scale past ~200 nodes. Masters become route\nreflectors; every node peers with them.', author: 'net', at: ms('2019-06-04T09:00:00Z'), files: [
    { filename: 'clusters/legacy-prod/bgp.yaml', status: 'added', patch: '@@ -0,0 +1,16 @@\n+apiVersion: projectcalico.org/v3\n+kind: BGPConfiguration\n+metadata: { name: default }\n+spec:\n+  nodeToNodeMeshEnabled: false\n+  asNumber: 64512\n+---\n+apiVersion: projectcalico.org/v3\n+kind: BGPPeer\n+metadata: { name: peer-with-route-reflectors }\n+spec:\n+  nodeSelector: all()\n+  peerSelector: has(node-role.kubernetes.io/master)\n+---\n+# route reflector nodes: calico-node on masters sets routeReflectorClusterID via node-role.kubernetes.io/master' },
  ] });
  I.deploy(CAL, { env: 'legacy-prod', ref: 'cal-2019.06.04', description: 'calico-config legacy-prod', createdAt: ms('2019-06-04T11:00:00Z'), finishedAt: ms('2019-06-04T11:02:44Z') });
  I.commit(CAL, { message: 'prod-b: route reflectors selected by route-reflector=true label', author: 'k8s2', at: ms('2022-09-12T10:00:00Z'), files: [
    { filename: 'clusters/prod-b/bgp.yaml', status: 'added', patch: '@@ -0,0 +1,6 @@\n+apiVersion: projectcalico.org/v3\n+kind: BGPPeer\n+metadata: { name: peer-with-route-reflectors }\n+spec:\n+  nodeSelector: all()\n+  peerSelector: route-reflector == \'true\'' },
  ] });
  I.deploy(CAL, { env: 'prod-b', ref: 'cal-2022.09.12', description: 'calico-config prod-b', createdAt: ms('2022-09-12T12:00:00Z'), finishedAt: ms('2022-09-12T12:03:10Z') });

  // ---- k8s-clusters: prod-b upgraded last week (fine), legacy-prod today (trigger), restore after
  const KC = 'snoozle/k8s-clusters';
  I.commit(KC, { message: 'prod-b: kubernetes 1.23.16 -> 1.24.10', author: 'k8s2', at: ms('2023-03-06T10:00:00Z'), files: [
    { filename: 'clusters/prod-b/cluster.yaml', patch: '@@ -3,7 +3,7 @@ metadata:\n spec:\n-  kubernetesVersion: v1.23.16\n+  kubernetesVersion: v1.24.10\n   controlPlane: { replicas: 3 }' },
  ] });
  I.deploy(KC, { env: 'prod-b', ref: 'kc-prod-b-1.24', description: 'upgrade prod-b to 1.24.10', createdAt: ms('2023-03-07T15:00:00Z'), finishedAt: ms('2023-03-07T16:48:20Z') });
  const upg = I.commit(KC, { message: 'legacy-prod: kubernetes 1.23.16 -> 1.24.10\n\nSame path as prod-b last week: control plane first, then kubelets in waves.\n1.24 removes dockershim (already on containerd) and the deprecated master node-role label.', author: 'k8s', at: ms('2023-03-13T15:00:00Z'), files: [
    { filename: 'clusters/legacy-prod/cluster.yaml', patch: '@@ -3,7 +3,7 @@ metadata:\n spec:\n-  kubernetesVersion: v1.23.16\n+  kubernetesVersion: v1.24.10\n   controlPlane: { replicas: 5 }' },
  ] });
  const prevKc = I.repo(KC).commits[0].sha;
  const upgDeploy = I.deploy(KC, { env: 'legacy-prod', ref: 'kc-legacy-prod-1.24', description: 'upgrade legacy-prod to 1.24.10 (control plane)', createdAt: ms('2023-03-14T18:41:00Z'), finishedAt: upgDone, commits: [upg] });
  I.deploy(KC, { env: 'legacy-prod', ref: 'restore-2023-03-14T18:30Z', description: 'restore legacy-prod control plane from etcd backup (1.23.16)', createdAt: ms('2023-03-14T22:10:00Z'), finishedAt: ms('2023-03-15T00:09:41Z'), sha: prevKc, commits: [] });

  // ---- app deploy shortly before (innocent)
  I.commit('snoozle/r2-api', { message: 'Comments: cap "load more" page size at 200', author: 'api', at: ms('2023-03-14T14:00:00Z'), files: [
    { filename: 'r2/controllers/comments.py', patch: '@@ -88,7 +88,7 @@ def load_more(request, link_id):\n-    limit = int(request.GET.get("limit", 100))\n+    limit = min(int(request.GET.get("limit", 100)), 200)\n     return render_children(link_id, limit=limit)' },
  ] });
  const apiDeploy = I.deploy('snoozle/r2-api', { env: 'production', ref: 'r2-20230314.3', description: 'r2-api r2-20230314.3', createdAt: ms('2023-03-14T18:40:00Z'), finishedAt: ms('2023-03-14T18:52:06Z') });
  I.changeEvent({ at: ms('2023-03-14T19:02:30Z'), summary: 'Feature flag pi_day_banner enabled (100%)', integration: 'flagd', services: ['r2-api'], custom_details: { flag: 'pi_day_banner', enabled: { from: false, to: true } } });

  // ---- Datadog
  const dark = (t) => t >= onset && t < restored;
  I.series({ metric: 'r2.requests.errors', expression: 'sum:r2.requests.errors{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => dark(t) ? I.noise(880000, 0.05) : I.noise(1200, 0.2) });
  I.series({ metric: 'calico.bgp.established_peers', expression: 'sum:calico.bgp.established_peers{cluster:legacy-prod}', scope: 'cluster:legacy-prod', interval: 30, from, to, unit: 'session', fn: (t) => t >= upgDone - 20 * SEC && t < restored - 8 * MIN ? 0 : Math.round(I.noise(1410, 0.004)) });
  I.series({ metric: 'calico.bgp.established_peers', expression: 'sum:calico.bgp.established_peers{cluster:prod-b}', scope: 'cluster:prod-b', interval: 30, from, to, unit: 'session', fn: () => Math.round(I.noise(960, 0.004)) });
  I.series({ metric: 'kubernetes.pods.network_unavailable', expression: 'sum:kubernetes.pods.network_unavailable{cluster:legacy-prod}', scope: 'cluster:legacy-prod', interval: 60, from, to, unit: 'pod', fn: (t) => dark(t) ? I.noise(14200, 0.02) : I.noise(4, 0.6) });
  I.ddEvent({ at: upgDone, title: 'legacy-prod control plane upgraded to v1.24.10', source_type_name: 'deploy', tags: ['cluster:legacy-prod', 'repo:snoozle/k8s-clusters'] });
  I.ddEvent({ at: apiDeploy.finishedAt, title: 'Deployed r2-api r2-20230314.3', source_type_name: 'deploy', tags: ['service:r2-api', 'env:production', 'repo:snoozle/r2-api'] });
  I.ddEvent({ at: ms('2023-03-14T19:05:10Z'), title: '[P1] Triggered: r2-api error rate > 5%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:r2-api'] });

  // ---- logs
  const nodes = ['ip-10-20-3-14', 'ip-10-20-7-201', 'ip-10-20-11-88', 'ip-10-20-14-5'];
  I.log(upgDone - 50 * SEC, 'kubeadm', 'info', 'legacy-master-1', '[upgrade/postupgrade] Removing the deprecated label node-role.kubernetes.io/master from all control plane Nodes. After this step only the label node-role.kubernetes.io/control-plane will be used');
  I.log(upgDone - 5 * SEC, 'kubeadm', 'info', 'legacy-master-1', '[upgrade/successful] SUCCESS! Your cluster was upgraded to "v1.24.10". Enjoy!');
  I.logsBetween(upgDone, restored, 120, 'calico-node', 'error', nodes, () => `calico/node is not ready: BIRD is not ready: BGP not established with ${I.pick(['10.20.0.11', '10.20.0.12', '10.20.0.13'])}`);
  I.logsBetween(upgDone, restored, 60, 'bird', 'warn', nodes, () => `bird: Node_10_20_0_${I.int(11, 15)}: Received: Peer de-configured; ${I.int(400, 1400)} routes withdrawn`);
  I.logsBetween(onset, restored, 200, 'r2-api', 'error', ['r2-api-6d8f-x2k', 'r2-api-6d8f-m91', 'r2-api-6d8f-q0z'], () => `${I.pick(['thing-service', 'cassandra-proxy', 'memcache-router', 'vote-service'])}: dial tcp 10.${I.int(96, 127)}.${I.int(0, 255)}.${I.int(2, 250)}:${I.pick([9090, 9042, 11211, 8080])}: i/o timeout`);
  I.logsBetween(from, to, 150, 'r2-api', 'info', ['r2-api-6d8f-x2k', 'r2-api-6d8f-m91'], () => `GET ${I.pick(['/r/all/hot', '/comments/11r', '/api/v1/me', '/r/pics/new'])} 200 ${I.int(40, 400)}ms`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] r2-api error rate > 5%', 'r2-api');
  I.pdNotify(page + 500, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2023-03-14T19:10:00Z'), 'ic');
  I.pdNote(ms('2023-03-14T20:30:00Z'), 'ic', 'legacy-prod pod network down since the 1.24 upgrade: Calico BGP peers selected via node-role.kubernetes.io/master, which 1.24 removes. No route reflectors. Preparing restore from backup.');
  I.pdNote(ms('2023-03-15T00:20:00Z'), 'ic', 'Control plane restored to 1.23.16 at 00:09, BGP re-established, traffic recovering 00:17.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (d, hms) => ms(`2023-03-${d}T${hms}Z`);
  I.bot(at(14, '19:05:41'), 'PagerDuty', ':rotating_light: *Triggered* #3141 [P1] r2-api error rate > 5%');
  I.say(at(14, '19:07:00'), 'oncall', 'ack. site is down. r2-api cannot reach anything: i/o timeouts to every backend');
  const th = I.say(at(14, '19:07:50'), 'api', 'r2-20230314.3 went out 18:52, comments page size cap. rollback?');
  I.say(at(14, '19:08:40'), 'oncall', 'it is pod-to-pod networking, not r2. everything in legacy-prod times out', { thread: th });
  I.say(at(14, '19:09:30'), 'k8s', 'I just finished upgrading legacy-prod to 1.24.10, control plane done at 19:02. same runbook as prod-b last week, which is fine');
  I.say(at(14, '19:11:00'), 'api', 'pi_day_banner flag flipped 19:02:30 too');
  I.say(at(14, '19:11:40'), 'ic', 'IC. banner is a template toggle, ignore. is it the upgrade?');
  I.say(at(14, '19:18:20'), 'net', 'calico BGP on legacy-prod: 0 established sessions, was ~1400. prod-b is fine');
  I.say(at(14, '19:24:10'), 'k8s2', 'legacy-prod calico: BGPPeer peerSelector has(node-role.kubernetes.io/master). kubeadm 1.24 removes that label. prod-b uses route-reflector=true');
  I.say(at(14, '19:26:00'), 'k8s', 'kubectl get nodes -l node-role.kubernetes.io/master -> No resources found. so no route reflectors, every node withdrew its routes');
  I.say(at(14, '19:31:30'), 'net', 'could we just relabel the masters?');
  I.say(at(14, '19:40:00'), 'k8s', 'tried on one master: calico-node on the masters also lost their reflector config, the BGP state is a mess. not safe to patch live');
  I.say(at(14, '19:52:00'), 'ic', 'decision: restore legacy-prod control plane from the 18:30 etcd backup, back to 1.23.16');
  I.say(at(14, '20:05:30'), 'k8s2', `backup bucket creds from the vault note: AWS_ACCESS_KEY_ID=AKIAQ7XK2MZ4PL8RVN3E AWS_SECRET_ACCESS_KEY=${I.secret('h7Gk2pQ9xVt4LmN8rW1cZb6Yf3Jd0Es5Ua9oTiKw')}`);
  I.say(at(14, '20:06:10'), 'ic', 'please rotate that after, and never paste creds here');
  I.say(at(15, '00:10:20'), 'k8s', 'restore finished 00:09, control plane 1.23.16, masters have their label back');
  I.say(at(15, '00:17:40'), 'net', 'BGP established again on all nodes, errors dropping');
  I.say(at(15, '00:40:30'), 'ic', 'resolving. follow-ups: audit configs for deprecated labels before upgrades, make route reflectors explicit like prod-b, practise restores');
  I.bot(at(15, '00:41:15'), 'PagerDuty', ':white_check_mark: *Resolved* #3141 [P1] r2-api error rate > 5%');

  const incident = { id: 'PSN3141', source: 'pagerduty', title: '[P1] r2-api error rate > 5%', service: 'r2-api', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 3141, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://snoozle.pagerduty.com/incidents/PSN3141' };
  const bundle = I.bundle({ incident, channel: { id: 'C04PIDAY', name: 'inc-legacy-prod-down' } });
  I.secrets.push('AKIAQ7XK2MZ4PL8RVN3E');
  const expected = {
    family: 'latent-defect',
    trigger: { repo: KC, sha: upg, deployment_id: upgDeploy.id },
    latent_defect: { repo: CAL, sha: latent },
    spike_onset: { metric: 'r2.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['node-role.kubernetes.io/master', 'route reflector', 'Calico', 'BGP', '1.24'],
    timeline_must_include: [
      { at: iso(upgDone), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
