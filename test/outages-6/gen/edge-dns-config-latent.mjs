// After Akamai, 2021-07-22: a software configuration update to the edge DNS service triggered a bug in
// the name servers; resolution of customer hostnames failed for about an hour until the update was rolled
// back. Akamai's summary gives the cause in one sentence; the field and the code path below are a
// plausible reconstruction consistent with it.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'edge-dns-config-latent';
export const source = 'Akamai, "Summary of the Akamai Edge DNS incident on July 22, 2021" (akamai.com status / blog, 2021-07-22/23)';

export function build() {
  const I = new Incident({ seed: 20210722, company: 'Arclight', domain: 'arclight.net' });
  I.person('oncall', 'Wiremu Parata', { login: 'wparata' });
  I.person('ic', 'Helena Novak', { login: 'hnovak', slack: 'helena', email: 'helena.novak@arclight.net' });
  I.person('dns', 'Samir Belkacem', { login: 'sbelkacem' });
  I.person('ops', 'Grace Achterberg', { login: 'gachterberg' });
  I.person('cdn', 'Luis Ferreira', { login: 'lferreira' });
  const at = (t) => ms(`2021-07-22T${t}Z`);
  const from = at('13:00:00'), to = at('18:00:00');
  const push = at('15:46:12'), onset = at('15:46:40'), page = at('15:48:10'), ack = at('15:48:40'), rollback = at('16:44:30'), resolve = at('17:05:00');

  const N = 'arclight/edgedns-server';
  const latent = I.commit(N, { message: 'zone loader: support per-map load-feedback weights', author: 'dns', at: ms('2021-03-30T11:00:00Z'), files: [{ filename: 'src/loader/mapweights.cc', patch: '@@ -112,6 +112,13 @@ Status LoadMapWeights(const Config& cfg, MapTable* t) {\n+  for (const auto& m : cfg.maps()) {\n+    auto& slot = t->slots[m.index()];\n+    // index is validated by the config compiler\n+    slot.weight = m.feedback_weight();\n+    slot.buckets.resize(cfg.bucket_count() / m.shards());\n+  }' }] });
  I.deploy(N, { env: 'edge-all', ref: 'edns-21.14', description: 'edgedns-server 21.14', createdAt: ms('2021-04-06T08:00:00Z'), finishedAt: ms('2021-04-08T17:20:00Z') });
  const ce = I.changeEvent({ at: push, summary: 'edns-config: publish mapping config v7512 (add map "ds-feedback-2", shards=0 placeholder)', integration: 'edns-config-publisher', services: ['edge-dns'], custom_details: { version: 7512, previous: 7511, maps_added: ['ds-feedback-2'], 'ds-feedback-2': { index: 41, shards: 0, feedback_weight: 0.3 }, propagation: 'all name servers' } });
  I.changeEvent({ at: at('15:46:25'), summary: 'cdn: purge-by-tag rate limit 5000/min -> 8000/min', integration: 'cdn-admin', services: ['purge-api'], custom_details: { from: 5000, to: 8000 } });
  I.changeEvent({ at: rollback, summary: 'edns-config: roll back mapping config to v7511', integration: 'edns-config-publisher', services: ['edge-dns'], custom_details: { version: 7511 } });
  I.commit('arclight/portal', { message: 'DNS zone editor: validate CAA tags', author: 'cdn', at: at('10:00:00'), files: [{ filename: 'portal/zones/caa.py', patch: '@@ -5,1 +5,2 @@\n+ALLOWED_TAGS = {"issue", "issuewild", "iodef"}' }] });
  I.deploy('arclight/portal', { env: 'production', ref: 'portal-4410', description: 'portal 4410', createdAt: at('15:10:00'), finishedAt: at('15:24:48'), creator: 'lferreira' });

  const bad = (t) => (t < onset ? 0 : t < rollback + 40 * SEC ? 1 : Math.max(0, 1 - (t - rollback - 40 * SEC) / (6 * MIN)));
  I.series({ metric: 'edns.queries.servfail', expression: 'sum:edns.queries{rcode:servfail}.as_count()', scope: 'rcode:servfail', interval: 20, from, to, unit: 'response', fn: (t) => I.noise(300, 0.2) + bad(t) * I.noise(2_400_000, 0.05) });
  I.series({ metric: 'edns.process.restarts', expression: 'sum:edns.process.restarts{*}.as_count()', scope: '*', interval: 60, from, to, fn: (t) => I.noise(0.3, 1) + bad(t) * I.noise(900, 0.1) });

  const hosts = ['ns-a12.fra', 'ns-b03.ord', 'ns-c44.hkg', 'ns-a07.gru'];
  I.logsBetween(onset - 10 * SEC, rollback + 40 * SEC, 110, 'edgedns-server', 'error', hosts, () => `F0722 ${I.int(10, 23)}:${I.int(10, 59)}:${I.int(10, 59)}.${I.int(100000, 999999)} loader] Check failed while loading config v7512: SIGFPE (integer divide by zero)\n*** Check failure stack trace: ***\n    @ edgedns::loader::LoadMapWeights() mapweights.cc:117\n    @ edgedns::loader::ApplyConfig() apply.cc:64\n    @ main\nsupervisor: edgedns exited (signal 8), restarting with last config from publisher`);
  I.log(at('15:45:50'), 'edns-config-publisher', 'info', 'pub-1', `publishing v7512 with signing key ${I.secret('ednspub-sk-7Hc2Wq9Lx4Mz0Pv6')} to 412 name server groups`);
  I.logsBetween(from, to, 25, 'purge-api', 'info', ['purge-1'], () => `purge tag=${I.hex(6)} ok in ${I.int(30, 900)}ms`);

  I.say(at('15:49:00'), 'oncall', 'ack. edge DNS SERVFAIL everywhere, name servers crash-looping');
  const th = I.say(at('15:49:40'), 'cdn', 'portal 4410 went out 15:24 with a CAA validator. could customers have saved bad CAA records?');
  I.say(at('15:50:30'), 'dns', 'zone data is fine; the crash is in the loader, before any zone is served: SIGFPE in LoadMapWeights mapweights.cc:117 while loading config v7512', { thread: th });
  I.say(at('15:51:10'), 'ops', 'purge rate limit went up at 15:46:25, that is the closest change');
  I.say(at('15:51:50'), 'dns', 'purge is the CDN API, it never reaches name servers. v7512 published 15:46:12 adds map ds-feedback-2 with shards=0; LoadMapWeights divides bucket_count by shards. that loop shipped in 21.14 in April and never saw shards=0');
  I.say(at('15:55:00'), 'ic', 'IC. roll back to v7511. the supervisor reloads the last published config, so publish v7511 as current');
  I.say(at('16:46:00'), 'dns', 'v7511 republished 16:44:30 after the publisher pipeline was unstuck, servers stable, SERVFAIL dropping');
  I.say(at('17:05:00'), 'ic', 'resolving. follow-ups: config compiler rejects shards=0, loader validates instead of trusting, staged config rollout');

  return finish(I, { page, ack, resolve, monitor: 'edge DNS SERVFAIL rate > 1%', service: 'edge-dns', number: 21722, oncall: 'oncall', ic: 'ic',
    notes: [[at('15:56:00'), 'Config v7512 (map with shards=0) crashes name server loader (divide by zero). Rolling back to v7511.']],
    channel: { id: 'C0ARCLDNS7', name: 'inc-edge-dns' }, family: 'latent-defect', trigger: { kind: 'change_event', change_event_id: ce },
    latent: { repo: N, sha: latent }, metric: 'edns.queries.servfail', scope: 'rcode:servfail', onset, terms: ['v7512', 'shards', 'SIGFPE', 'LoadMapWeights', 'divide by zero'] });
}
