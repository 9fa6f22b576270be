// After AWS, 2012-10-22: a data-collection server of the block-storage fleet failed and was replaced the
// week before; the DNS update pointing at the replacement did not reach every internal resolver. The
// reporting agent on each storage server kept retrying the old address, and a leak in its retry path grew
// its memory for days until storage servers ran short of memory and volumes became stuck. Restarting the
// agents and fixing DNS recovered.
import { Incident, ms, MIN, SEC, HOUR } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'collector-dns-agent-leak';
export const source = 'AWS, "Summary of the October 22, 2012 AWS Service Event in the US-East Region" (aws.amazon.com/message/680342, 2012-10-26)';

export function build() {
  const I = new Incident({ seed: 20121022, company: 'Stratavolt', domain: 'stratavolt.io' });
  I.person('oncall', 'Keanu Kahale', { login: 'kkahale' });
  I.person('ic', 'Margarethe Holm', { login: 'mholm', slack: 'grete', email: 'grete.holm@stratavolt.io' });
  I.person('stor', 'Deepak Venkataraman', { login: 'dvenkataraman' });
  I.person('infra', 'Olga Petrenko', { login: 'opetrenko' });
  I.person('api', 'Noah Friedman', { login: 'nfriedman' });
  const at = (t) => ms(t.length <= 8 ? `2012-10-22T${t}Z` : t);
  const from = at('09:00:00'), to = at('2012-10-23T02:00:00');
  const replace = at('2012-10-15T18:22:40'), onset = at('17:00:00'), page = at('17:03:30'), ack = at('17:04:10'), dnsFix = at('20:40:00'), restarted = at('21:50:00'), resolve = at('2012-10-23T00:30:00');

  const AG = 'stratavolt/vol-agent';
  const latent = I.commit(AG, { message: 'reporter: retry collector on connect failure, keep pending batches', author: 'stor', at: ms('2012-06-04T10:00:00Z'), files: [{ filename: 'reporter/send.c', patch: '@@ -58,9 +58,15 @@ int report_flush(struct reporter *r) {\n-    if (connect_collector(r) < 0)\n-        return drop_batch(r);\n+    if (connect_collector(r) < 0) {\n+        /* keep the batch for the next attempt */\n+        struct batch *b = batch_clone(r->cur);\n+        list_push(&r->pending, b);\n+        schedule_retry(r, 30);\n+        return -EAGAIN;\n+    }' }] });
  I.deploy(AG, { env: 'storage-fleet', ref: 'vol-agent-3.2', description: 'vol-agent 3.2', createdAt: ms('2012-06-11T08:00:00Z'), finishedAt: ms('2012-06-14T19:00:00Z') });
  const ce = I.changeEvent({ at: replace, summary: 'hw: collector-07 replaced (failed PSU); DNS collector-07.int -> 10.41.8.22 (new host)', integration: 'hw-ops', services: ['vol-collector'], custom_details: { ticket: 'HW-55812', host: 'collector-07', old_ip: '10.41.3.17', new_ip: '10.41.8.22', dns_record: 'collector-07.int' } });
  I.commit(AG, { message: 'reporter: include firmware version in host report', author: 'stor', at: ms('2012-10-17T12:00:00Z'), files: [{ filename: 'reporter/host.c', patch: '@@ -20,1 +20,2 @@\n+    kv_add(h, "fw", read_fw_version());' }] });
  I.deploy(AG, { env: 'storage-fleet', ref: 'vol-agent-3.3', description: 'vol-agent 3.3', createdAt: ms('2012-10-18T08:00:00Z'), finishedAt: ms('2012-10-18T16:40:00Z'), creator: 'dvenkataraman' });
  I.commit('stratavolt/volume-api', { message: 'DescribeVolumes: paginate at 500', author: 'api', at: at('08:00:00'), files: [{ filename: 'api/describe.py', patch: '@@ -14,1 +14,1 @@\n-PAGE = 1000\n+PAGE = 500' }] });
  I.deploy('stratavolt/volume-api', { env: 'us-east', ref: 'vapi-1022', description: 'volume-api 1022', createdAt: at('15:30:00'), finishedAt: at('15:44:10'), creator: 'nfriedman' });
  I.changeEvent({ at: dnsFix, summary: 'dns: flush stale collector-07.int on resolvers int-dns-3, int-dns-5', integration: 'dns-admin', services: ['internal-dns'], custom_details: { record: 'collector-07.int' } });

  const bad = (t) => (t < onset ? 0 : t < restarted ? Math.min(1, 0.25 + (t - onset) / (90 * MIN)) : Math.max(0, 1 - (t - restarted) / (90 * MIN)));
  I.series({ metric: 'volumes.stuck', expression: 'sum:volumes.stuck{region:us-east}', scope: 'region:us-east', interval: 60, from, to, fn: (t) => I.noise(3, 0.6) + bad(t) * I.noise(7800, 0.05) });
  I.series({ metric: 'vol_agent.rss_mb', expression: 'avg:vol_agent.rss_mb{role:storage}', scope: 'role:storage', interval: 300, from, to, fn: (t) => (t < restarted ? 2600 + (t - from) / HOUR * 18 : I.noise(40, 0.1)) });
  I.ddEvent({ at: at('15:44:10'), title: 'volume-api 1022 deployed', source_type_name: 'deploy', tags: ['service:volume-api'] });

  const hosts = ['stor-e1-0841', 'stor-e1-1922', 'stor-e1-3307'];
  I.logsBetween(from, restarted, 60, 'vol-agent', 'warn', hosts, () => `report_flush: connect collector-07.int (10.41.3.17:7410) failed: No route to host; pending batches ${I.int(19000, 21000)}, retry in 30s`);
  I.logsBetween(onset, restarted, 90, 'vol-server', 'error', hosts, () => `${I.pick(['alloc io buffer failed: ENOMEM (free 42MB)', 'vol-' + I.hex(8) + ' I/O stalled 30s, marking impaired', 'oom-killer: candidate vol-agent rss ' + I.int(5400, 5900) + 'MB'])}`);
  I.log(at('18:30:00'), 'ops', 'info', 'bastion-2', `dig collector-07.int @int-dns-3 -> 10.41.3.17 (stale); @int-dns-1 -> 10.41.8.22. tsig key ${I.secret('hmac-sha256:c3RyYXRhdm9sdC1pbnRkbnMtMjAxMg==')}`);
  I.logsBetween(from, to, 20, 'volume-api', 'info', ['vapi-2'], () => `DescribeVolumes page=500 ${I.int(20, 200)}ms`);

  I.say(at('17:04:30'), 'oncall', 'ack. volumes going stuck across us-east, storage servers reporting ENOMEM');
  const th = I.say(at('17:05:20'), 'api', 'volume-api 1022 went out 15:44, only pagination. roll back?');
  I.say(at('17:06:30'), 'stor', 'api does not run on storage servers, and the memory pressure is on storage servers. vol-agent is at 5.7 GB RSS', { thread: th });
  I.say(at('17:12:00'), 'oncall', 'vol-agent 3.3 shipped on the 18th. regression?');
  I.say(at('17:20:00'), 'stor', '3.3 only adds a firmware field. agent RSS has been climbing since the 15th, before 3.3: every agent retries collector-07.int at 10.41.3.17 forever and report_flush clones and keeps each pending batch, never freed. that retry path is from June (3.2) but never had a collector gone for days');
  I.say(at('17:35:00'), 'infra', 'collector-07 was replaced on the 15th (HW-55812) with a new IP. two internal resolvers still hand out the old address');
  I.say(at('17:40:00'), 'ic', 'IC. fix DNS on the stale resolvers, then rolling restart of vol-agent, throttled so we do not add load');
  I.say(at('21:52:00'), 'stor', 'DNS flushed 20:40, agents restarted fleet-wide by 21:50, RSS at 40 MB, stuck volumes recovering');
  I.say(at('2012-10-23T00:30:00'), 'ic', 'resolving. follow-ups: cap pending batches in the agent, alert on agent memory, DNS change verification on every resolver');

  return finish(I, { page, ack, resolve, monitor: 'stuck volumes > 50 (us-east)', service: 'volumes', number: 12102, opsgenie: true, ogId: 'e7a3c9f1-5b2d-4c8e-9f60-3d1a8b7e2c05', oncall: 'oncall', ic: 'ic',
    notes: [[at('17:45:00'), 'vol-agent leaks memory retrying collector-07 at stale IP since its replacement on Oct 15. Fixing DNS, restarting agents.']],
    channel: { id: 'C0STVLEAK2', name: 'inc-volumes-stuck' }, family: 'delayed-onset', trigger: { kind: 'change_event', change_event_id: ce },
    latent: { repo: AG, sha: latent }, metric: 'volumes.stuck', scope: 'region:us-east', onset, terms: ['collector-07', 'vol-agent', 'memory', 'leak', 'DNS'] });
}
