// After AWS Kinesis, us-east-1, 2020-11-25: a routine capacity addition to the front-end fleet. Each
// front-end server keeps one OS thread per other front-end server; as the fleet learned about the new
// members over the next hour, every server crossed the operating system's thread limit, could no
// longer build its shard-map cache, and failed requests. Removing the added capacity and restarting
// the fleet slowly recovered it.
import { Incident, ms, iso, isoS, MIN, SEC, HOUR } from '../../outages/gen/lib.mjs';

export const slug = 'frontend-capacity-thread-limit';
export const source = 'AWS, "Summary of the Amazon Kinesis Event in the Northern Virginia (US-EAST-1) Region" (aws.amazon.com/message/11201, 2020-11-28)';

export function build() {
  const I = new Incident({ seed: 201125, company: 'Rivulet', domain: 'rivulet.cloud' });
  I.person('oncall', 'Jamal Wright', { login: 'jwright' });
  I.person('ic', 'Katarzyna Zielinska', { login: 'kzielinska' });
  I.person('fe', 'Tomasz Krol', { login: 'tkrol-fe' });
  I.person('fe2', 'Anjali Desai', { login: 'adesai' });
  I.person('cap', 'Brendan Walsh', { login: 'bwalsh' });
  I.person('metrics', 'Yasmin Farouk', { login: 'yfarouk' });

  const from = ms('2020-11-25T08:00:00Z');
  const to = ms('2020-11-26T08:00:00Z');
  const capStart = ms('2020-11-25T10:44:00Z');
  const capDone = ms('2020-11-25T11:47:05Z');
  const onset = ms('2020-11-25T13:15:00Z');
  const removed = ms('2020-11-25T17:52:30Z');
  const full = ms('2020-11-26T06:23:00Z');
  const page = ms('2020-11-25T13:17:22Z');
  const ack = ms('2020-11-25T13:18:05Z');
  const resolve = ms('2020-11-26T06:40:51Z');
  const LIMIT = 32768;

  // ---- change events: the capacity addition (trigger), decoys, the removal
  const ce = I.changeEvent({ at: capDone, summary: 'Capacity added: stream-frontend us-east-1 +244 hosts (1,412 -> 1,656)', integration: 'fleet-capacity', services: ['stream-frontend'], custom_details: { fleet: 'stream-frontend', region: 'us-east-1', hosts: { from: 1412, to: 1656 }, started_at: '2020-11-25T10:44:00Z', reason: 'pre-holiday headroom (CAP-7712)', instance_type: 'fe.4xlarge' } });
  I.changeEvent({ at: ms('2020-11-25T12:58:40Z'), summary: 'Metrics agent config: stream-frontend flush interval 60s -> 30s', integration: 'config-push', services: ['stream-frontend'], custom_details: { agent: 'metrics-agent', flush_interval: { from: '60s', to: '30s' } } });
  I.changeEvent({ at: ms('2020-11-25T13:09:15Z'), summary: 'Alarm thresholds updated: identity-pool token latency p99 800ms -> 600ms', integration: 'alarm-as-code', services: ['identity-pool'], custom_details: { alarm: 'token-latency-p99', threshold: { from: '800ms', to: '600ms' } } });
  I.changeEvent({ at: removed, summary: 'Capacity removed: stream-frontend us-east-1 -244 hosts (1,656 -> 1,412)', integration: 'fleet-capacity', services: ['stream-frontend'], custom_details: { fleet: 'stream-frontend', region: 'us-east-1', hosts: { from: 1656, to: 1412 }, reason: 'incident: thread limit' } });

  // ---- GitHub: front-end code deployed the day before (innocent), the later thread-limit change
  const FE = 'rivulet/stream-frontend';
  I.commit(FE, { message: 'GetRecords: reuse response buffers from a pool', author: 'fe2', at: ms('2020-11-23T15:00:00Z'), files: [
    { filename: 'src/main/java/cloud/rivulet/fe/GetRecordsHandler.java', patch: '@@ -51,7 +51,7 @@ final class GetRecordsHandler {\n-        ByteBuffer buf = ByteBuffer.allocate(size);\n+        ByteBuffer buf = bufferPool.acquire(size);\n         try {' },
  ] });
  const feDeploy = I.deploy(FE, { env: 'us-east-1', ref: 'fe-2020.11.24', description: 'stream-frontend fe-2020.11.24 (wave 4 of 4: us-east-1)', createdAt: ms('2020-11-24T16:00:00Z'), finishedAt: ms('2020-11-24T19:32:10Z') });
  const fix = I.commit('rivulet/host-config', { message: 'stream-frontend: raise threads-max / nproc to 65536\n\nEach front-end keeps one thread per peer; at 1,656 peers plus workers we crossed 32768.', author: 'fe', at: ms('2020-11-25T19:20:00Z'), files: [
    { filename: 'roles/stream-frontend/templates/limits.conf.j2', patch: '@@ -1,3 +1,3 @@\n-fe  soft  nproc  32768\n-fe  hard  nproc  32768\n+fe  soft  nproc  65536\n+fe  hard  nproc  65536' },
  ] });
  I.deploy('rivulet/host-config', { env: 'us-east-1', ref: 'hc-2211', description: 'host-config hc-2211 (stream-frontend nproc 65536)', createdAt: ms('2020-11-25T20:00:00Z'), finishedAt: ms('2020-11-25T21:14:40Z'), commits: [fix] });

  // ---- Datadog
  const learned = (t) => t < capDone ? (t < capStart ? 0 : 0.15 * (t - capStart) / (capDone - capStart)) : Math.min(1, 0.15 + 0.85 * (t - capDone) / (onset - capDone));
  const restoreFrac = (t) => t < removed + 20 * MIN ? 0 : Math.min(1, (t - removed - 20 * MIN) / (full - removed - 20 * MIN));
  const broken = (t) => t >= onset && t < full ? 1 - 0.97 * restoreFrac(t) : 0;
  I.series({ metric: 'stream_frontend.threads.max', expression: 'max:stream_frontend.threads{region:us-east-1}', scope: 'region:us-east-1', interval: 60, from, to, unit: 'thread', fn: (t) => t >= onset && t < removed ? LIMIT : t >= removed ? I.noise(29600, 0.004) : Math.min(LIMIT, I.noise(29650, 0.003) + 3250 * learned(t)) });
  I.series({ metric: 'stream_frontend.requests.errors', expression: 'sum:stream_frontend.requests.errors{region:us-east-1}.as_count()', scope: 'region:us-east-1', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(600, 0.2) + broken(t) * I.noise(3_800_000, 0.05) });
  I.series({ metric: 'stream_frontend.memory.used_pct', expression: 'avg:stream_frontend.memory.used_pct{region:us-east-1}', scope: 'region:us-east-1', interval: 60, from, to, unit: 'percent', fn: (t) => I.noise(61 + 4 * learned(t), 0.02) });
  I.series({ metric: 'identity_pool.token.errors', expression: 'sum:identity_pool.token.errors{region:us-east-1}.as_count()', scope: 'region:us-east-1', interval: 60, from, to, unit: 'request', fn: (t) => I.noise(80, 0.3) + (t >= onset + 3 * MIN ? broken(t) * I.noise(240000, 0.08) : 0) });
  I.ddEvent({ at: feDeploy.finishedAt, title: 'Deployed stream-frontend fe-2020.11.24 (us-east-1)', source_type_name: 'deploy', tags: ['service:stream-frontend', 'region:us-east-1', 'repo:rivulet/stream-frontend'] });
  I.ddEvent({ at: ms('2020-11-25T13:16:50Z'), title: '[P1] Triggered: stream-frontend PutRecord/GetRecords error rate > 1% (us-east-1)', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:stream-frontend'] });

  // ---- logs
  const fes = ['fe-use1-0044', 'fe-use1-0391', 'fe-use1-0977', 'fe-use1-1502'];
  I.logsBetween(capDone, onset, 40, 'stream-frontend', 'info', fes, () => `membership: learned ${I.int(1, 9)} new peers (fleet view ${I.int(1420, 1655)}/1656); started peer threads, process threads=${I.int(29700, 32700)}`);
  I.logsBetween(onset, removed + 2 * HOUR, 220, 'stream-frontend', 'error', fes, () => I.pick([
    `shard-map cache build failed: cannot create thread for peer fe-use1-${String(I.int(1, 1656)).padStart(4, '0')}: java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached (threads=${LIMIT}, nproc limit=${LIMIT})`,
    `PutRecords 500 InternalFailure: shard map unavailable (cache not built) stream=${I.pick(['clickstream', 'metrics-ingest', 'idp-events', 'billing-usage'])}`,
    `GetRecords 500 InternalFailure: shard map unavailable (cache not built)`,
  ]));
  I.logsBetween(onset + 3 * MIN, removed, 80, 'identity-pool', 'error', ['idp-use1-12', 'idp-use1-40'], () => `event publish to stream idp-events failed after 3 retries: InternalFailure; request buffer ${I.int(60, 99)}% full`);
  I.log(ms('2020-11-25T14:02:00Z'), 'stream-frontend', 'info', fes[0], `debug dump requested via admin endpoint (X-Admin-Auth: ${I.secret('rvl_adm_5f2b9c7e1d4a8036bb27e9c4f1a06d53')})`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] stream-frontend PutRecord/GetRecords error rate > 1% (us-east-1)', 'stream-frontend');
  I.pdNotify(page + 500, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2020-11-25T13:25:00Z'), 'ic');
  I.pdNote(ms('2020-11-25T17:45:00Z'), 'ic', 'Root cause: every front-end hit the nproc/thread limit (32768) after the fleet learned the 244 hosts added 10:44-11:47 (one thread per peer). Removing the added capacity, then restarting front-ends in small batches.');
  I.pdNote(ms('2020-11-26T06:30:00Z'), 'ic', 'All front-ends restarted and serving. Error rate at baseline since 06:23.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (d, hms) => ms(`2020-11-${d}T${hms}Z`);
  I.bot(at(25, '13:17:24'), 'PagerDuty', ':rotating_light: *Triggered* #7720 [P1] stream-frontend PutRecord/GetRecords error rate > 1% (us-east-1)');
  I.say(at(25, '13:18:50'), 'oncall', 'ack. stream-frontend failing most Put/GetRecords in us-east-1: shard map unavailable, cache not built');
  I.say(at(25, '13:21:10'), 'metrics', 'metrics agent flush interval changed 12:58 on the front-ends, could more frequent flushing hurt?');
  I.say(at(25, '13:22:30'), 'oncall', 'agent runs out of process, and the error is in shard-map cache building. doubt it');
  const th = I.say(at(25, '13:24:00'), 'fe2', 'fe-2020.11.24 (buffer pool) finished us-east-1 yesterday 19:32. 18h clean, but rollback is an option');
  I.say(at(25, '13:25:20'), 'fe', 'the stack says unable to create native thread. memory is at 65%, could still be memory pressure from the buffer pool', { thread: th });
  I.say(at(25, '13:40:00'), 'ic', 'IC. downstream: identity-pool and metrics ingestion failing because they publish to streams. restarts of front-ends?');
  I.say(at(25, '13:52:00'), 'fe', 'restarted 3 front-ends, they come up, start learning peers, and die at the same point. not memory');
  I.say(at(25, '15:30:00'), 'fe2', 'rolling back fe-2020.11.24 is a full fleet restart, which we cannot do while the fleet is in this state');
  I.say(at(25, '17:20:00'), 'fe', 'threads=32768 on every failing host. that is the nproc limit. each front-end runs one thread per peer front-end');
  I.say(at(25, '17:25:30'), 'cap', 'we added 244 hosts to stream-frontend 10:44-11:47 (CAP-7712). 1,412 -> 1,656 peers');
  I.say(at(25, '17:28:00'), 'fe', 'that is it: threads rose as the fleet learned the new peers over ~90 min, crossing 32768 around 13:15. max thread graph climbs from 11:47');
  I.say(at(25, '17:32:00'), 'ic', 'decision: remove the added capacity, then restart front-ends a few hundred at a time. raise nproc after');
  I.say(at(25, '17:53:00'), 'cap', 'capacity removed 17:52:30, back to 1,412');
  I.say(at(25, '21:15:30'), 'fe', 'host-config hc-2211 raised nproc to 65536 fleet-wide, restarts continuing');
  I.say(at(26, '06:24:00'), 'oncall', 'all front-ends serving, errors at baseline since 06:23');
  I.say(at(26, '06:40:00'), 'ic', 'resolving. follow-ups: thread-per-peer design, alarm on thread headroom, capacity changes need a thread budget check');
  I.bot(at(26, '06:40:53'), 'PagerDuty', ':white_check_mark: *Resolved* #7720 [P1] stream-frontend PutRecord/GetRecords error rate > 1% (us-east-1)');

  const incident = { id: 'PRV7720', source: 'pagerduty', title: '[P1] stream-frontend PutRecord/GetRecords error rate > 1% (us-east-1)', service: 'stream-frontend', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 7720, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://rivulet.pagerduty.com/incidents/PRV7720' };
  const bundle = I.bundle({ incident, channel: { id: 'C01KINFE', name: 'inc-stream-frontend' } });
  const expected = {
    family: 'delayed-onset',
    trigger: { kind: 'change_event', change_event_id: ce },
    spike_onset: { metric: 'stream_frontend.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['thread', 'nproc', '32768', 'capacity', 'shard-map', 'peer'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
