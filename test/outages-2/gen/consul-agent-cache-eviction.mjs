// After Slack, 2022-02-22: a Consul agent upgrade rolled out in 25% host batches. Restarting the
// agent on a memcached host drops it from the service catalog, and the cache control plane swaps
// in an empty spare. The third batch emptied enough of the cache that an expensive scatter query
// (group-DM membership, not sharded by user) overloaded the database; client boots timed out and
// retried, feeding the load until boots were throttled.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'consul-agent-cache-eviction';
export const source = 'Slack Engineering, "Slack\'s Incident on 2-22-22" (slack.engineering, 2022-04)';

export function build() {
  const I = new Incident({ seed: 220222, company: 'Murmur', domain: 'murmur.chat' });
  I.person('oncall', 'Elena Rossi', { login: 'erossi' });
  I.person('ic', 'Kofi Mensah', { login: 'kmensah-ic' });
  I.person('infra', 'Jakub Wiśniewski', { login: 'jwisniewski' });
  I.person('cache', 'Aiko Tanaka', { login: 'atanaka-cache' });
  I.person('db', 'Rohan Kapoor', { login: 'rkapoor' });
  I.person('web', 'Claire Dubois', { login: 'cdubois' });

  const from = ms('2022-02-22T11:00:00Z');
  const to = ms('2022-02-22T19:00:00Z');
  const b3Start = ms('2022-02-22T13:38:00Z');
  const b3Done = ms('2022-02-22T13:57:40Z');
  const onset = ms('2022-02-22T14:01:00Z');
  const throttled = ms('2022-02-22T15:12:00Z');
  const queryFix = ms('2022-02-22T16:05:00Z');
  const page = ms('2022-02-22T14:03:26Z');
  const ack = ms('2022-02-22T14:04:10Z');
  const resolve = ms('2022-02-22T17:20:55Z');

  // ---- the Consul agent bump, rolled out per host batch (one environment per batch)
  const CK = 'murmur/chef-consul';
  const bump = I.commit(CK, { message: 'consul agent 1.10.7 -> 1.11.3\n\nRoll out in 25% batches (prod-batch-1..4), one batch per day at most.', author: 'infra', at: ms('2022-02-16T10:00:00Z'), files: [
    { filename: 'attributes/default.rb', patch: "@@ -1,6 +1,6 @@\n-default['consul']['version'] = '1.10.7'\n+default['consul']['version'] = '1.11.3'\n default['consul']['restart_on_upgrade'] = true\n default['consul']['datacenter'] = node['murmur']['region']" },
  ] });
  I.deploy(CK, { env: 'prod-batch-1', ref: 'consul-1.11.3', description: 'consul agent 1.11.3 batch 1/4 (0% -> 25%)', createdAt: ms('2022-02-17T14:00:00Z'), finishedAt: ms('2022-02-17T14:19:02Z'), commits: [bump] });
  I.deploy(CK, { env: 'prod-batch-2', ref: 'consul-1.11.3', description: 'consul agent 1.11.3 batch 2/4 (25% -> 50%)', createdAt: ms('2022-02-18T14:00:00Z'), finishedAt: ms('2022-02-18T14:21:30Z'), commits: [bump] });
  const b3 = I.deploy(CK, { env: 'prod-batch-3', ref: 'consul-1.11.3', description: 'consul agent 1.11.3 batch 3/4 (50% -> 75%)', createdAt: b3Start, finishedAt: b3Done, commits: [bump] });

  // ---- webapp: a deploy finishing after batch 3 (innocent), then the query fix
  const WEB = 'murmur/webapp';
  I.commit(WEB, { message: 'Emoji reactions: batch-load custom emoji for the visible channel only', author: 'web', at: ms('2022-02-21T16:00:00Z'), files: [
    { filename: 'app/emoji/loader.php', patch: '@@ -30,7 +30,8 @@ function emoji_load_for_client($team, $client) {\n-  $emoji = emoji_fetch_all($team);\n+  $visible = client_visible_channel($client);\n+  $emoji = emoji_fetch_for_channel($team, $visible);' },
  ] });
  const webDeploy = I.deploy(WEB, { env: 'production', ref: 'web-2022-02-22-3', description: 'webapp web-2022-02-22-3', createdAt: ms('2022-02-22T13:44:00Z'), finishedAt: ms('2022-02-22T13:59:12Z') });
  const fixC = I.commit(WEB, { message: 'client.boot: read GDM membership from the per-user index, not the scatter query\n\nSELECT ... FROM gdm_members WHERE user_id=? fans out to every shard (table is sharded by channel_id).\nUse user_gdm_index (sharded by user_id) and cache the result for 10 min.', author: 'db', at: ms('2022-02-22T15:35:00Z'), files: [
    { filename: 'app/boot/gdm.php', patch: "@@ -14,9 +14,10 @@ function boot_gdm_memberships($user_id) {\n-  $cached = mc_get(\"gdm_members:$user_id\");\n-  if ($cached !== null) return $cached;\n-  $rows = vt_scatter_query('SELECT channel_id FROM gdm_members WHERE user_id = ?', [$user_id]);\n+  $cached = mc_get(\"gdm_members:$user_id\");\n+  if ($cached !== null) return $cached;\n+  $rows = vt_query_shard_for($user_id, 'SELECT channel_id FROM user_gdm_index WHERE user_id = ?', [$user_id]);\n+  mc_set(\"gdm_members:$user_id\", $rows, 600);\n   return $rows;" },
  ] });
  I.deploy(WEB, { env: 'production', ref: 'web-2022-02-22-5', description: 'webapp web-2022-02-22-5 (hotfix: gdm membership query)', createdAt: ms('2022-02-22T15:50:00Z'), finishedAt: queryFix, commits: [fixC] });

  // ---- change events
  I.changeEvent({ at: ms('2022-02-22T13:30:00Z'), summary: 'Feature flag gdm_sidebar_v2 ramped 10% -> 25%', integration: 'flagship', services: ['webapp'], custom_details: { flag: 'gdm_sidebar_v2', rollout: { from: '10%', to: '25%' } } });
  I.changeEvent({ at: ms('2022-02-22T14:40:00Z'), summary: 'Feature flag gdm_sidebar_v2 ramped 25% -> 0%', integration: 'flagship', services: ['webapp'], custom_details: { flag: 'gdm_sidebar_v2', rollout: { from: '25%', to: '0%' }, reason: 'incident INC-2202' } });
  I.changeEvent({ at: ms('2022-02-22T14:52:00Z'), summary: 'consul agent rollout paused: prod-batch-4 cancelled', integration: 'chef-automate', services: ['consul'], custom_details: { cookbook: 'chef-consul', version: '1.11.3', batch: 4, state: { from: 'scheduled', to: 'cancelled' } } });
  I.changeEvent({ at: throttled, summary: 'Rate limit client.boot: 100% -> 30% admitted (edge)', integration: 'edge-limits', services: ['webapp'], custom_details: { endpoint: 'client.boot', admitted: { from: '100%', to: '30%' } } });

  // ---- Datadog
  const hit = (t) => {
    // short dips during batches 1-2 (Feb 17/18) are outside this window; batch 3 empties a quarter of the pool
    if (t < b3Start) return 0.962;
    if (t < b3Done) return 0.962 - 0.2 * (t - b3Start) / (b3Done - b3Start);
    return Math.min(0.955, 0.762 + 0.19 * Math.max(0, (t - queryFix) / (60 * MIN)));
  };
  const storm = (t) => t >= onset && t < queryFix + 10 * MIN ? (t < throttled ? 1 : 0.35) : 0;
  I.series({ metric: 'memcached.hit_rate', expression: 'avg:memcached.hit_rate{pool:main}', scope: 'pool:main', interval: 30, from, to, unit: 'fraction', fn: (t) => Math.min(0.999, I.noise(hit(t), 0.004)) });
  I.series({ metric: 'vitess.query.latency.p99', expression: 'avg:vitess.query.latency.p99{keyspace:gdm}', scope: 'keyspace:gdm', interval: 30, from, to, unit: 'millisecond', fn: (t) => t >= b3Start && t < queryFix + 10 * MIN ? I.noise(t < onset ? 60 + 900 * (t - b3Start) / (onset - b3Start) : 9000 * (storm(t) || 0.1), 0.1) : I.noise(38, 0.15) });
  I.series({ metric: 'webapp.client_boot.errors', expression: 'sum:webapp.client_boot.errors{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(35, 0.3) + storm(t) * I.noise(210000, 0.07) });
  I.series({ metric: 'webapp.client_boot.requests', expression: 'sum:webapp.client_boot.requests{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(120000 * (1 + 2.2 * storm(t)), 0.04) });
  I.ddEvent({ at: b3Done, title: 'chef-consul: consul 1.11.3 converged on prod-batch-3 (1,912 hosts)', source_type_name: 'deploy', tags: ['service:consul', 'env:production', 'repo:murmur/chef-consul'] });
  I.ddEvent({ at: webDeploy.finishedAt, title: 'Deployed webapp web-2022-02-22-3', source_type_name: 'deploy', tags: ['service:webapp', 'env:production', 'repo:murmur/webapp'] });
  I.ddEvent({ at: ms('2022-02-22T14:03:00Z'), title: '[P1] Triggered: client.boot error rate > 2%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:webapp'] });

  // ---- logs
  I.logsBetween(b3Start, b3Done, 70, 'mcrib', 'warn', ['mcrib-1'], () => `node mc-${String(I.int(100, 999)).padStart(4, '0')} left catalog (consul agent restart, health check critical); replaced with spare mc-spare-${I.int(10, 99)} (cold, 0 items)`);
  I.logsBetween(onset - 2 * MIN, queryFix, 160, 'vtgate', 'error', ['vtgate-12', 'vtgate-31'], () => `query timed out after 2s: target: gdm.-80.primary ... scatter over 256 shards: SELECT channel_id FROM gdm_members WHERE user_id = :vtg1 (cache miss path from boot_gdm_memberships)`);
  I.logsBetween(onset, queryFix + 10 * MIN, 200, 'webapp', 'error', ['web-i-0c71', 'web-i-09aa', 'web-i-0f3e'], () => `client.boot failed after 10001ms: boot_gdm_memberships timeout (vitess gdm scatter); client will retry (attempt ${I.int(1, 6)})`);
  I.logsBetween(from, to, 180, 'webapp', 'info', ['web-i-0c71', 'web-i-09aa'], () => `${I.pick(['POST /api/chat.postMessage', 'GET /api/conversations.history', 'POST /api/client.boot'])} 200 ${I.int(20, 300)}ms`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] client.boot error rate > 2%', 'webapp');
  I.pdNotify(page + 400, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2022-02-22T14:50:00Z'), 'ic', 'Consul 1.11.3 batch 3 restarted agents on memcached hosts; mcrib swapped in cold spares, hit rate 96% -> 76%. Cache misses hit the GDM scatter query, vitess saturated, boots time out and retry. Pausing the rollout.');
  I.pdNote(ms('2022-02-22T16:20:00Z'), 'ic', 'Boots throttled 15:12, query hotfix live 16:05. Boot errors at baseline, ramping admission back up.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2022-02-22T${hms}Z`);
  I.bot(at('14:03:28'), 'PagerDuty', ':rotating_light: *Triggered* #12217 [P1] client.boot error rate > 2%');
  I.say(at('14:04:50'), 'oncall', 'ack. client.boot timing out for lots of users, retries piling up');
  const th = I.say(at('14:06:00'), 'web', 'web-2022-02-22-3 finished 13:59. custom emoji loading. rolling back to be safe?');
  I.say(at('14:07:15'), 'oncall', 'boot errors are boot_gdm_memberships timeouts in vitess, emoji is not on that path', { thread: th });
  I.say(at('14:09:30'), 'web', 'gdm_sidebar_v2 went 10% -> 25% at 13:30, and it is about GDMs...');
  I.say(at('14:12:10'), 'db', 'gdm keyspace p99 climbing since ~13:40, scatter queries on gdm_members WHERE user_id. that query only runs on a memcached miss');
  I.say(at('14:14:00'), 'cache', 'memcached main pool hit rate went from 96% to 76% between 13:38 and 13:58. mcrib replaced ~25% of nodes with cold spares');
  I.say(at('14:15:40'), 'ic', 'IC. why would mcrib replace a quarter of the pool?');
  I.say(at('14:17:20'), 'cache', 'nodes left the consul catalog: "consul agent restart". every memcached host in prod-batch-3 restarted its agent');
  I.say(at('14:18:30'), 'infra', 'consul 1.11.3 batch 3/4 ran 13:38-13:57. batches 1 and 2 last week each dipped the hit rate a bit and it refilled. this one tipped the db over');
  I.say(at('14:21:00'), 'db', 'and clients retrying boot make it worse, boot requests are 3x normal');
  I.say(at('14:40:20'), 'web', 'ramped gdm_sidebar_v2 to 0% anyway, no change in errors');
  I.say(at('14:52:30'), 'infra', 'batch 4 cancelled. agents stay on 1.11.3 on batches 1-3, cache refills on its own but the storm keeps it cold');
  I.say(at('15:05:00'), 'ic', 'decision: throttle client.boot at the edge to let the cache warm, and hotfix the query to the per-user index');
  I.say(at('15:06:20'), 'infra', `edge limits api needs the ops token: CONSUL_HTTP_TOKEN=${I.secret('b1e4c7a2-93f0-4d6e-8a5b-2f7c91d03e68')} is the one in the runbook, still valid?`);
  I.say(at('15:12:30'), 'oncall', 'boot admission at 30% since 15:12, vitess p99 falling');
  I.say(at('16:06:00'), 'db', 'gdm query hotfix live 16:05, no more scatter on boot');
  I.say(at('17:19:50'), 'ic', 'resolving. follow-ups: consul restarts must not evict cache nodes, retry backoff on boot, kill the scatter query');
  I.bot(at('17:20:57'), 'PagerDuty', ':white_check_mark: *Resolved* #12217 [P1] client.boot error rate > 2%');

  const incident = { id: 'PMU12217', source: 'pagerduty', title: '[P1] client.boot error rate > 2%', service: 'webapp', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 12217, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://murmur.pagerduty.com/incidents/PMU12217' };
  const bundle = I.bundle({ incident, channel: { id: 'C0322BOOT', name: 'inc-client-boot' } });
  const expected = {
    family: 'cross-repo-infra',
    trigger: { repo: CK, sha: bump, deployment_id: b3.id },
    spike_onset: { metric: 'webapp.client_boot.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['consul', 'memcached', 'mcrib', 'cache', 'gdm_members', 'scatter'],
    timeline_must_include: [
      { at: iso(b3Done), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
