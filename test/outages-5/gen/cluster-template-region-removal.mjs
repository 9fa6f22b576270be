// After Skyscanner, 2021-08: a one-line change to a root template of the cluster configuration, which
// the GitOps sync applies to every cluster in every region, removed the region placeholder. The rendered
// config no longer contained the services' namespaces, so the sync pruned them: hundreds of services were
// deleted from every cluster within minutes. Reverting stopped the deletion; restoring every service from
// its own pipeline took hours.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'cluster-template-region-removal';
export const source = 'Skyscanner Engineering, "How a one-line change took down Skyscanner for 4 hours" (medium.com/@SkyscannerEng, 2021-09), about the outage of 2021-08-25';

export function build() {
  const I = new Incident({ seed: 20210825, company: 'Hopway', domain: 'hopway.travel' });
  I.person('oncall', 'Ravi Subramanian', { login: 'rsubramanian' });
  I.person('ic', 'Hannah Schmidt', { login: 'hschmidt' });
  I.person('plat', 'Joao Pereira', { login: 'jpereira' });
  I.person('plat2', 'Aisha Khan', { login: 'akhan' });
  I.person('search', 'Niamh Byrne', { login: 'nbyrne' });
  const at = (t) => ms(`2021-08-25T${t}Z`);
  const from = at('11:00:00'), to = at('20:30:00');
  const onset = at('14:32:30'), page = at('14:34:10'), ack = at('14:34:50'), revert = at('15:04:40'), restored = at('18:40:00'), resolve = at('19:21:30');

  const CC = 'hopway/cluster-config';
  I.commit(CC, { message: 'Bump coredns to 1.8.4', author: 'plat2', at: ms('2021-08-23T10:00:00Z'), files: [{ filename: 'addons/coredns/values.yaml', patch: '@@ -2,1 +2,1 @@\n-  tag: 1.8.3\n+  tag: 1.8.4' }] });
  I.deploy(CC, { env: 'all-clusters', ref: 'cc-0823-1', description: 'cluster-config cc-0823-1', createdAt: ms('2021-08-23T13:00:00Z'), finishedAt: ms('2021-08-23T13:24:18Z'), creator: 'akhan' });
  const bad = I.commit(CC, { message: 'Templates: tidy root app path (region comes from the overlay anyway)', author: 'plat', at: at('10:40:00'), files: [{ filename: 'root/apps/services.yaml.tmpl', patch: '@@ -14,7 +14,7 @@ spec:\n   source:\n     repoURL: git@github.com:hopway/service-manifests.git\n-    path: regions/{{ .Region }}/services\n+    path: regions/services\n   syncPolicy:\n     automated:\n       prune: true' }] });
  I.commit(CC, { message: 'Bump cluster-autoscaler to 1.21.1', author: 'plat2', at: at('11:30:00'), files: [{ filename: 'addons/cluster-autoscaler/values.yaml', patch: '@@ -3,1 +3,1 @@\n-  tag: v1.21.0\n+  tag: v1.21.1' }] });
  const trig = I.deploy(CC, { env: 'all-clusters', ref: 'cc-0825-2', description: 'cluster-config cc-0825-2 (GitOps sync, all regions)', createdAt: at('14:18:00'), finishedAt: at('14:31:05'), creator: 'jpereira' });
  I.repo(CC).deployment_commits[String(trig.id)] = I.repo(CC).commits.slice(-2).map((c) => c.sha);
  I.commit('hopway/search-api', { message: 'search: cache carrier logos for 24h', author: 'search', at: at('09:30:00'), files: [{ filename: 'src/main/kotlin/search/Logos.kt', patch: '@@ -11,1 +11,1 @@\n-    private val ttl = Duration.ofHours(1)\n+    private val ttl = Duration.ofHours(24)' }] });
  I.deploy('hopway/search-api', { env: 'prod-eu-west-1', ref: 'search-api-7781', description: 'search-api 7781', createdAt: at('14:22:00'), finishedAt: at('14:31:52'), creator: 'nbyrne' });
  const revertSha = I.commit(CC, { message: 'Revert "Templates: tidy root app path (region comes from the overlay anyway)"', author: 'plat', at: at('14:58:00'), files: [{ filename: 'root/apps/services.yaml.tmpl', patch: '@@ -16,1 +16,1 @@\n-    path: regions/services\n+    path: regions/{{ .Region }}/services' }] });
  I.deploy(CC, { env: 'all-clusters', ref: 'cc-0825-3', description: 'cluster-config cc-0825-3 (revert)', createdAt: at('14:59:30'), finishedAt: revert, creator: 'jpereira', commits: [revertSha] });

  const gone = (t) => (t < onset ? 0 : t < revert ? Math.min(1, (t - onset) / (6 * MIN) + 0.3) : t < restored ? 1 - 0.85 * (t - revert) / (restored - revert) : Math.max(0, 0.15 - (t - restored) / (40 * MIN)));
  I.series({ metric: 'k8s.deployments.missing', expression: 'sum:k8s.deployments.missing{env:prod}', scope: 'env:prod', interval: 30, from, to, fn: (t) => I.noise(1.5, 0.6) + gone(t) * 478 * 6 });
  I.series({ metric: 'gateway.http.503', expression: 'sum:gateway.http.503{env:prod}.as_count()', scope: 'env:prod', interval: 60, from, to, unit: 'response', fn: (t) => I.noise(120, 0.2) + (t < onset + 60 * SEC ? 0 : gone(t) * I.noise(950000, 0.05)) });
  I.ddEvent({ at: at('14:31:05'), title: 'cluster-config cc-0825-2 synced to all clusters', source_type_name: 'deploy', tags: ['service:cluster-config'] });
  I.ddEvent({ at: at('14:31:52'), title: 'search-api 7781 deployed (prod-eu-west-1)', source_type_name: 'deploy', tags: ['service:search-api'] });

  const clusters = ['prod-euw1-a', 'prod-euw1-b', 'prod-use1-a', 'prod-apse1-a', 'prod-apne1-b'];
  I.logsBetween(onset - 20 * SEC, revert, 90, 'argocd-application-controller', 'info', clusters, () => `app=root-services rev=cc-0825-2 path=regions/services: ${I.pick(['0 resources rendered for this region', `pruning Namespace/${I.pick(['flights-search', 'hotels-pricing', 'carhire-api', 'booking-gw', 'geo-autosuggest'])} (not in rendered manifests)`, `deleted Deployment ${I.hex(6)} (prune)`])}`);
  I.logsBetween(onset + 60 * SEC, restored, 80, 'edge-gateway', 'error', ['gw-euw1-4', 'gw-use1-9'], () => `503 upstream ${I.pick(['flights-search', 'hotels-pricing', 'booking-gw'])}: no healthy endpoints (service not found)`);
  I.logsBetween(from, to, 40, 'cluster-autoscaler', 'info', clusters, () => `scale-up: node group ng-${I.hex(4)} ${I.int(3, 9)} -> ${I.int(10, 14)} (v1.21.1)`);
  I.log(at('14:10:00'), 'argocd-server', 'info', 'argocd-0', `repo creds refreshed: https://x-access-token:${I.secret('ghs_Hopway9cQz2LmP0wXr7TaE4vBn1Ks8')}@github.com/hopway/service-manifests.git`);

  I.say(at('14:35:30'), 'oncall', 'ack. 503 from the gateway for most services in every region');
  const th = I.say(at('14:36:10'), 'search', 'search-api 7781 went out 14:31:52 in euw1, rolling back');
  I.say(at('14:37:30'), 'oncall', 'it is every service in every region, and the services are gone from the clusters, not failing', { thread: th });
  I.say(at('14:39:00'), 'plat2', 'cc-0825-2 includes my cluster-autoscaler bump, head of the deploy. could the new autoscaler be evicting?');
  I.say(at('14:41:30'), 'plat', 'autoscaler only adds nodes (logs show scale-ups). argocd is pruning: root-services rendered path regions/services, which has nothing, so prune removed every namespace. that path is my template change in cc-0825-2, I dropped {{ .Region }}. reverting now');
  I.say(at('14:45:00'), 'ic', 'IC. revert the template, disable auto-prune on root apps, then restore services from their pipelines, tier 1 first');
  I.say(at('15:06:00'), 'plat', 'revert cc-0825-3 synced 15:04:40, pruning stopped. 478 services per region to redeploy');
  I.say(at('18:42:00'), 'plat2', 'tier 1 and 2 restored 18:40, remaining long tail redeploying');
  I.say(at('19:21:00'), 'ic', 'resolving. follow-ups: root templates deploy region by region, prune needs a max-deletions guard, render diff in CI shows deletions');

  return finish(I, { page, ack, resolve, monitor: '[P1] gateway 503 rate > 5%', service: 'edge-gateway', number: 21825, oncall: 'oncall', ic: 'ic',
    notes: [[at('14:50:00'), 'cc-0825-2 template removed {{ .Region }} from root app path; argocd pruned all service namespaces globally. Reverted; restoring.']],
    channel: { id: 'C0HPWK8S21', name: 'inc-global-503' }, family: 'cross-repo-infra', trigger: { repo: CC, sha: bad, deployment_id: trig.id },
    metric: 'k8s.deployments.missing', scope: 'env:prod', onset, deployAt: trig.finishedAt, terms: ['cc-0825-2', 'Region', 'template', 'prune', 'namespace'] });
}
