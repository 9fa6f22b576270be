// After Roblox, 2021-10-28..31: Consul's streaming backend, enabled the day before for the traffic
// routing service, contends under peak load (together with BoltDB freelist growth); the Consul
// cluster degrades and every service that depends on it fails. Disabling streaming brings write
// latency back; the cluster is then restored and players are let back in gradually.
import { Incident, ms, iso, HOUR, MIN, SEC } from './lib.mjs';

export const slug = 'consul-streaming-contention';
export const source = 'Roblox, "Roblox Return to Service 10/28-10/31 2021" (blog.roblox.com, 2022-01-20)';

export function build() {
  const I = new Incident({ seed: 211028, company: 'Blockhaven', domain: 'blockhaven.gg' });
  I.person('oncall', 'Tariq Mansour', { login: 'tmansour' });
  I.person('ic', 'Helen Forsberg', { login: 'hforsberg' });
  I.person('consul', 'Diego Almeida', { login: 'dalmeida-infra' });
  I.person('consul2', 'Rina Kobayashi', { login: 'rkobayashi' });
  I.person('hw', 'Patrick Doyle', { login: 'pdoyle-dc' });
  I.person('vendor', 'Olga Ivanova', { login: 'oivanova' });
  I.person('games', 'Zoe Adler', { login: 'zadler' });

  const from = ms('2021-10-27T18:00:00Z');
  const to = ms('2021-11-01T01:00:00Z');
  const onset = ms('2021-10-28T20:37:00Z');
  const disable = ms('2021-10-30T22:51:40Z');
  const back = ms('2021-10-31T23:45:00Z');
  const page = ms('2021-10-28T20:41:09.482Z');
  const ack = ms('2021-10-28T20:43:55.107Z');
  const resolve = ms('2021-11-01T00:05:12.630Z');

  // ---- GitHub: consul-config holds the culprit (streaming for traffic-router, Oct 27) and a decoy close to onset
  const CFG = 'blockhaven/consul-config';
  I.commit(CFG, { message: 'Enable streaming backend for payments-api agents', author: 'consul2', at: ms('2021-10-20T16:00:00Z'), files: [
    { filename: 'services/payments-api/agent.hcl', patch: '@@ -12,6 +12,7 @@ rpc {\n }\n+use_streaming_backend = true\n' },
  ] });
  I.deploy(CFG, { env: 'production', ref: 'cc-1187', description: 'consul-config cc-1187 (agents reload)', createdAt: ms('2021-10-20T17:00:00Z'), finishedAt: ms('2021-10-20T17:08:12Z') });
  const culprit = I.commit(CFG, { message: 'Enable streaming backend for traffic-router agents\n\nStreaming replaces long-polling blocking queries for service health watches. Rolled\nout to payments-api last week without issue; traffic-router has the most watchers.', author: 'consul', at: ms('2021-10-27T19:40:00Z'), files: [
    { filename: 'services/traffic-router/agent.hcl', patch: '@@ -9,8 +9,9 @@ ports {\n   grpc = 8502\n }\n \n+use_streaming_backend = true\n+\n rpc {\n   enable_streaming = true\n }' },
  ] });
  const bad = I.deploy(CFG, { env: 'production', ref: 'cc-1203', description: 'consul-config cc-1203 (agents reload)', createdAt: ms('2021-10-27T20:55:00Z'), finishedAt: ms('2021-10-27T21:02:47Z') });
  I.commit(CFG, { message: 'Telemetry: filter out consul.rpc.query per-query metrics', author: 'consul2', at: ms('2021-10-28T18:10:00Z'), files: [
    { filename: 'common/telemetry.hcl', patch: '@@ -3,6 +3,7 @@ telemetry {\n   statsd_address = "127.0.0.1:8125"\n   disable_hostname = true\n+  prefix_filter = ["-consul.rpc.query"]\n }' },
  ] });
  I.deploy(CFG, { env: 'production', ref: 'cc-1209', description: 'consul-config cc-1209 (agents reload)', createdAt: ms('2021-10-28T20:22:00Z'), finishedAt: ms('2021-10-28T20:29:18Z') });
  I.commit('blockhaven/game-join', { message: 'Matchmaking: prefer servers with warm asset cache', author: 'games', at: ms('2021-10-28T17:00:00Z'), files: [
    { filename: 'matchmaking/score.go', patch: '@@ -44,6 +44,9 @@ func score(s Server, req JoinRequest) float64 {\n \tsc := latencyScore(s, req)\n+\tif s.AssetCacheWarm(req.PlaceID) {\n+\t\tsc += 0.15\n+\t}\n \treturn sc' },
  ] });
  I.deploy('blockhaven/game-join', { env: 'production', ref: 'gj-2021.10.28.3', description: 'game-join gj-2021.10.28.3', createdAt: ms('2021-10-28T20:10:00Z'), finishedAt: ms('2021-10-28T20:24:51Z') });
  const revert = I.commit(CFG, { message: `Disable streaming backend on all agents\n\nReverts the streaming rollout (including ${culprit.slice(0, 7)}). KV write and blocking query\nlatency collapse under streaming subscription contention on the servers.`, author: 'consul', at: ms('2021-10-30T22:30:00Z'), files: [
    { filename: 'services/traffic-router/agent.hcl', patch: '@@ -9,9 +9,8 @@ ports {\n   grpc = 8502\n }\n \n-use_streaming_backend = true\n-\n rpc {\n-  enable_streaming = true\n+  enable_streaming = false\n }' },
    { filename: 'services/payments-api/agent.hcl', patch: '@@ -12,7 +12,6 @@ rpc {\n }\n-use_streaming_backend = true\n' },
  ] });
  I.deploy(CFG, { env: 'production', ref: 'cc-1214', description: 'consul-config cc-1214 (agents + servers restart)', createdAt: ms('2021-10-30T22:40:00Z'), finishedAt: disable, commits: [revert] });

  // ---- Datadog (60 s)
  const hod = (t) => new Date(t).getUTCHours() + new Date(t).getUTCMinutes() / 60;
  const load = (t) => 1 + 0.35 * Math.sin(((hod(t) - 14) / 24) * 2 * Math.PI);
  I.series({ metric: 'consul.kvs.apply.99p', expression: 'max:consul.kvs.apply.99percentile{cluster:consul-main}', scope: 'cluster:consul-main', interval: 60, from, to, unit: 'millisecond', fn: (t) => {
    if (t < onset) return I.noise(45 * load(t), 0.15);
    if (t < disable) return I.noise(2600 + 1400 * load(t), 0.2);
    return I.noise(300 - Math.min(240, (t - disable) / HOUR * 10), 0.15);
  } });
  I.series({ metric: 'consul.raft.leader.lastContact.max', expression: 'max:consul.raft.leader.lastContact.max{cluster:consul-main}', scope: 'cluster:consul-main', interval: 60, from, to, unit: 'millisecond', fn: (t) => t >= onset && t < disable ? I.noise(1800, 0.4) : I.noise(40, 0.3) });
  I.series({ metric: 'consul.boltdb.freelistBytes', expression: 'max:consul.boltdb.freelistBytes{cluster:consul-main}', scope: 'cluster:consul-main', interval: 60, from, to, unit: 'byte', fn: (t) => t < ms('2021-10-31T02:00:00Z') ? 3.9e9 + (t - from) / HOUR * 2.1e6 : 1.2e6 });
  I.series({ metric: 'game.join.success_rate', expression: 'avg:game.join.success_rate{env:production}', scope: 'env:production', interval: 60, from, to, unit: 'percent', fn: (t) => {
    if (t < onset) return I.noise(99.4, 0.002);
    if (t < ms('2021-10-28T23:35:00Z')) return I.noise(55, 0.2);
    if (t < ms('2021-10-31T13:00:00Z')) return I.noise(1, 0.9);
    if (t < back) return Math.min(99, 5 + (t - ms('2021-10-31T13:00:00Z')) / HOUR * 9);
    return I.noise(99.3, 0.002);
  } });

  // ---- logs
  const servers = ['consul-srv-01', 'consul-srv-02', 'consul-srv-03', 'consul-srv-04', 'consul-srv-05'];
  I.logsBetween(from, onset, 120, 'consul', 'info', servers, () => `agent.server.raft: ${I.pick(['snapshot complete', 'compacting logs', 'pipelining replication'])}: index=${I.int(9e8, 9.9e8)}`);
  I.logsBetween(onset, disable, 200, 'consul', 'warn', servers, () => I.pick([
    `agent.server.raft: failed to contact quorum of nodes, stepping down`,
    `agent.server: rpc error: code = Unknown desc = timed out waiting for stream subscription snapshot (topic=ServiceHealth key=traffic-router)`,
    `agent.rpc: rpc.stream.subscribe: dropping subscriber, send buffer full subscribers=${I.int(280000, 340000)}`,
    `agent.server.raft: heartbeat timeout reached, starting election`,
  ]));
  I.logsBetween(ms('2021-10-29T19:00:00Z'), ms('2021-10-29T19:30:00Z'), 6, 'consul', 'error', servers, () => `goroutine profile: 61% of 4.1M goroutines blocked in sync.(*RWMutex).Lock\n  github.com/hashicorp/consul/agent/consul/stream.(*EventPublisher).publishEvent\n  github.com/hashicorp/consul/agent/consul/stream.(*eventBuffer).AppendItems\n  github.com/hashicorp/consul/agent/submatview.(*Store).Get`);
  I.logsBetween(onset, ms('2021-10-31T13:00:00Z'), 150, 'game-join', 'error', ['gj-7c4f', 'gj-9a21', 'gj-2b88'], () => `join failed: service discovery lookup for ${I.pick(['asset-delivery', 'game-servers', 'auth'])} timed out after 10s (consul blocking query)`);
  I.logsBetween(onset, disable, 40, 'vault', 'error', ['vault-01', 'vault-02'], () => 'core: error checking health: Get "http://127.0.0.1:8500/v1/kv/vault/core/lock?index=..." context deadline exceeded');

  // ---- Opsgenie
  I.og(page, 'Alert created via Datadog integration: [P1] consul-main KV apply p99 > 1s');
  I.og(page + 412, `Alert notified ${I.p('oncall').realName} via voice`, 'system');
  I.og(ack, `Alert acknowledged by ${I.p('oncall').realName}`, 'alertAction', I.p('oncall').email);
  I.og(ms('2021-10-29T04:10:00.311Z'), 'Note added: Replacing consul servers with 128-core hardware did not help. Contention, not capacity.', 'note', I.p('ic').email);
  I.og(ms('2021-10-30T23:10:04.902Z'), 'Note added: Streaming disabled on all agents/servers at 22:51. KV apply p99 down from ~4s to ~300ms.', 'note', I.p('ic').email);
  I.og(resolve, `Alert closed by ${I.p('ic').realName}`, 'alertAction', I.p('ic').email);

  // ---- Slack
  const at = (s) => ms(s);
  I.bot(at('2021-10-28T20:41:12Z'), 'Opsgenie', ':red_circle: [P1] consul-main KV apply p99 > 1s (Blockhaven SRE)');
  I.say(at('2021-10-28T20:44:30Z'), 'oncall', 'ack. consul KV writes p99 ~3s since 20:37, vault unhealthy, join success dropping');
  const th = I.say(at('2021-10-28T20:46:10Z'), 'games', 'game-join gj-2021.10.28.3 went out 20:24. rollback?');
  I.say(at('2021-10-28T20:48:00Z'), 'oncall', 'game-join errors are consul lookup timeouts, it is downstream. consul servers are the ones hurting', { thread: th });
  I.say(at('2021-10-28T20:49:40Z'), 'consul2', 'cc-1209 at 20:29 only added a telemetry prefix_filter. I can revert it anyway');
  I.say(at('2021-10-28T21:20:15Z'), 'consul2', 'reverted the prefix_filter, no change');
  I.say(at('2021-10-28T21:35:00Z'), 'hw', 'consul-srv-03 has a bad DIMM warning in the BMC. degraded hardware?');
  I.say(at('2021-10-28T22:10:00Z'), 'ic', "IC. swapping consul-srv-03 and then all servers to the 128-core boxes, let's see");
  I.say(at('2021-10-29T04:05:00Z'), 'consul', 'new hardware in, no improvement. raft keeps losing leader, lastContact seconds');
  I.say(at('2021-10-29T07:30:00Z'), 'vendor', 'from the consul vendor side: can you send goroutine dumps and the BoltDB stats?');
  I.say(at('2021-10-29T19:25:00Z'), 'consul', 'goroutine dump: 61% blocked on a RWMutex in stream.(*EventPublisher).publishEvent / submatview.Store.Get. that is the streaming backend');
  I.say(at('2021-10-29T19:40:00Z'), 'consul2', 'streaming got enabled for traffic-router agents on wednesday (cc-1203, 21:02). traffic-router has the most health watchers of anything we run');
  I.say(at('2021-10-29T20:05:00Z'), 'vendor', 'also boltdb freelist is ~4GB, which makes every raft log append slow. two problems stacking');
  I.say(at('2021-10-30T09:00:00Z'), 'ic', 'plan: disable streaming everywhere, then restore servers from snapshot onto fresh boltdb to shed the freelist');
  I.say(at('2021-10-30T22:52:30Z'), 'consul', 'cc-1214 rolled: streaming disabled on all agents and servers 22:51');
  I.say(at('2021-10-30T23:05:00Z'), 'oncall', 'KV apply p99 dropped to ~300ms right after. leader stable');
  I.say(at('2021-10-31T02:30:00Z'), 'consul2', 'servers restored from snapshot, freelist back to ~1MB');
  I.say(at('2021-10-31T13:00:00Z'), 'games', 'starting gradual player admission by DNS steering, 10% steps');
  I.say(at('2021-10-31T23:46:00Z'), 'games', '100% of players admitted, join success 99%');
  I.say(at('2021-11-01T00:04:30Z'), 'ic', 'closing the alert. postmortem: streaming rollout per-service with load tests, boltdb freelist monitoring, reduce consul dependency of telemetry');

  const incident = { id: 'a3f9c1e2-7b44-4c8e-9d1a-2e6f0b5c7d88', source: 'opsgenie', title: '[P1] consul-main KV apply p99 > 1s', service: 'consul-main', severity: 'P1', status: 'closed', created_at: iso(page), acknowledged_at: iso(ack), resolved_at: iso(resolve), url: 'https://blockhaven.app.opsgenie.com/alert/detail/a3f9c1e2-7b44-4c8e-9d1a-2e6f0b5c7d88/details' };
  const bundle = I.bundle({ incident, channel: { id: 'C02CONSUL28', name: 'inc-consul-2021-10-28' }, opsgenie: true });
  const expected = {
    family: 'delayed-onset',
    trigger: { repo: CFG, sha: culprit, deployment_id: bad.id },
    spike_onset: { metric: 'consul.kvs.apply.99p', at: iso(onset), tolerance_ms: 60000 },
    root_cause_terms: ['streaming', 'use_streaming_backend', 'BoltDB', 'contention'],
    timeline_must_include: [
      { at: iso(bad.finishedAt), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  void MIN; void SEC;
  return { bundle, expected };
}
