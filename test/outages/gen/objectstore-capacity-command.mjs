// After AWS S3 us-east-1, 2017-02-28: an operator following a playbook entered one input wrongly
// and removed far more servers than intended, taking out the index and placement subsystems.
// No deployment or configuration change caused it.
import { Incident, ms, iso, isoS, SEC } from './lib.mjs';

export const slug = 'objectstore-capacity-command';
export const source = 'Amazon Web Services, "Summary of the Amazon S3 Service Disruption in the Northern Virginia (US-EAST-1) Region" (aws.amazon.com/message/41926, 2017-03-02)';

export function build() {
  const I = new Incident({ seed: 170228, company: 'Nimbusly', domain: 'nimbusly.cloud' });
  I.person('oncall', 'Rafael Ortiz', { login: 'rortiz-sre' });
  I.person('ic', 'Margaret Oyelaran', { login: 'moyelaran' });
  I.person('billing', 'Kevin Szabo', { login: 'kszabo' });
  I.person('idx', 'Anjali Mehta', { login: 'amehta-idx' });
  I.person('web', 'Jonas Eriksen', { login: 'jeriksen' });
  I.person('comms', 'Paula Reyes', { login: 'preyes' });

  const from = ms('2017-02-28T14:30:00Z');
  const to = ms('2017-02-28T22:30:00Z');
  const cmd = ms('2017-02-28T17:37:12Z');
  const onset = ms('2017-02-28T17:37:30Z');
  const getsBack = ms('2017-02-28T21:26:00Z');
  const putsBack = ms('2017-02-28T21:54:00Z');
  const page = ms('2017-02-28T17:38:44Z');
  const ack = ms('2017-02-28T17:39:20Z');
  const resolve = ms('2017-02-28T22:02:31Z');

  // ---- GitHub: innocent deploys, one closer to the onset than anything else
  I.commit('nimbusly/objectstore-frontend', { message: 'Emit request latency histogram per API operation', author: 'web', at: ms('2017-02-28T15:10:00Z'), files: [
    { filename: 'frontend/metrics.py', patch: "@@ -22,6 +22,8 @@ def record(req, resp, elapsed):\n     statsd.incr('objectstore.requests', tags=[f'op:{req.op}'])\n+    statsd.histogram('objectstore.request.latency', elapsed,\n+                     tags=[f'op:{req.op}', f'status:{resp.status // 100}xx'])" },
  ] });
  I.deploy('nimbusly/objectstore-frontend', { env: 'prod-east-1', ref: 'fe-2017.02.28.1', description: 'objectstore-frontend fe-2017.02.28.1 (one-box -> zone -> region)', createdAt: ms('2017-02-28T16:10:00Z'), finishedAt: ms('2017-02-28T17:19:55Z') });
  I.commit('nimbusly/console', { message: 'Bucket list: remember sort order per user', author: 'web', at: ms('2017-02-28T16:30:00Z'), files: [
    { filename: 'ui/buckets/list.js', patch: "@@ -14,7 +14,8 @@ export function BucketList({ buckets }) {\n-  const [sort, setSort] = useState('name');\n+  const [sort, setSort] = useState(localStorage.getItem('bucketSort') || 'name');\n+  useEffect(() => localStorage.setItem('bucketSort', sort), [sort]);" },
  ] });
  I.deploy('nimbusly/console', { env: 'production', ref: 'console-8812', description: 'console-8812', createdAt: ms('2017-02-28T17:31:00Z'), finishedAt: ms('2017-02-28T17:36:41Z') });
  I.commit('nimbusly/billing-pipeline', { message: 'Batch usage records in 5k chunks', author: 'billing', at: ms('2017-02-27T11:00:00Z'), files: [
    { filename: 'billing/usage_writer.py', patch: '@@ -9,7 +9,7 @@\n-CHUNK = 1000\n+CHUNK = 5000' },
  ] });
  I.deploy('nimbusly/billing-pipeline', { env: 'prod-east-1', ref: 'bp-412', description: 'billing-pipeline bp-412', createdAt: ms('2017-02-27T13:00:00Z'), finishedAt: ms('2017-02-27T13:21:08Z') });
  I.changeEvent({ at: ms('2017-02-28T17:34:50Z'), summary: 'Raised request-rate limit for account 5512-0923 from 3500 to 5500 PUT/s', integration: 'Limits Service', services: ['objectstore'], custom_details: { account: '5512-0923', limit: 'put_rps', previous: 3500, current: 5500, ticket: 'LIM-22871' } });

  // ---- Datadog
  const idxDown = (t) => t >= onset && t < getsBack;
  const plDown = (t) => t >= onset && t < putsBack;
  I.series({ metric: 'objectstore.requests.errors', expression: 'sum:objectstore.requests.errors{region:east-1,status_class:5xx}.as_count()', scope: 'region:east-1,status_class:5xx', interval: 30, from, to, unit: 'request', fn: (t) => idxDown(t) ? I.noise(2_900_000, 0.05) : plDown(t) ? I.noise(640_000, 0.08) : I.noise(900, 0.2) });
  I.series({ metric: 'objectstore.requests', expression: 'sum:objectstore.requests{region:east-1}.as_count()', scope: 'region:east-1', interval: 30, from, to, unit: 'request', fn: () => I.noise(3_100_000, 0.04) });
  I.series({ metric: 'objectstore.index.hosts_in_service', expression: 'sum:objectstore.index.hosts_in_service{region:east-1}', scope: 'region:east-1,subsystem:index', interval: 30, from, to, unit: 'host', fn: (t) => t < cmd ? 1184 : t < ms('2017-02-28T20:40:00Z') ? 402 + Math.floor((t - cmd) / (600 * SEC)) * 3 : 1184 });
  I.series({ metric: 'objectstore.placement.hosts_in_service', expression: 'sum:objectstore.placement.hosts_in_service{region:east-1}', scope: 'region:east-1,subsystem:placement', interval: 30, from, to, unit: 'host', fn: (t) => t < cmd ? 386 : t < ms('2017-02-28T21:40:00Z') ? 91 : 386 });
  I.ddEvent({ at: ms('2017-02-28T17:38:30Z'), title: '[P1] Triggered: objectstore east-1 5xx ratio > 2%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:objectstore', 'region:east-1'] });
  I.ddEvent({ at: ms('2017-02-28T17:36:41Z'), title: 'Deployed console console-8812', source_type_name: 'deploy', tags: ['service:console', 'env:production'] });

  // ---- logs
  const fe = ['fe-e1a-0113', 'fe-e1b-0442', 'fe-e1c-0781'];
  I.logsBetween(from, to, 200, 'objectstore', 'info', fe, () => `${I.pick(['GET', 'PUT', 'GET', 'LIST', 'HEAD'])} /${I.pick(['media-prod', 'logs-archive', 'static-assets', 'backups-7'])}/${I.hex(8)} 200 ${I.int(4, 80)}ms`);
  I.log(cmd, 'ops-cli', 'info', 'bastion-e1-02', `capacity remove --pool objstore-e1 --hosts 40% --reason "BILL-DEBUG-7 slow billing processing" (runbook CAP-REMOVE-03 step 4; operator session ops-7731)`);
  I.log(cmd + 2 * SEC, 'ops-cli', 'warn', 'bastion-e1-02', 'capacity remove: pool prefix objstore-e1 matched 7 pools (objstore-e1-billing, objstore-e1-index, objstore-e1-placement, ...); removing 40% of 4210 hosts = 1684 hosts');
  I.log(cmd + 9 * SEC, 'ops-cli', 'info', 'bastion-e1-02', 'capacity remove: 1684 hosts marked out of service');
  I.logsBetween(onset, getsBack, 90, 'objectstore-index', 'error', ['idx-e1-0412', 'idx-e1-0977', 'idx-e1-1130'], () => `index shard ${I.int(100, 4000)}: quorum lost (${I.int(0, 2)}/5 replicas in service); refusing reads and writes`);
  I.logsBetween(onset, getsBack, 160, 'objectstore', 'error', fe, () => `${I.pick(['GET', 'LIST', 'PUT', 'DELETE'])} /${I.pick(['media-prod', 'logs-archive', 'static-assets'])}/${I.hex(8)} 503 ServiceUnavailable: index lookup failed (no quorum) request_id=${I.alnum(16)}`);
  I.logsBetween(getsBack, putsBack, 50, 'objectstore', 'error', fe, () => `PUT /${I.pick(['media-prod', 'uploads'])}/${I.hex(8)} 503 ServiceUnavailable: placement unavailable (no storage allocation) request_id=${I.alnum(16)}`);
  I.logsBetween(ms('2017-02-28T18:05:00Z'), getsBack, 30, 'objectstore-index', 'info', ['idx-e1-0412', 'idx-e1-0977'], () => `index restart: safety check / metadata validation ${I.int(5, 99)}% complete (shard group ${I.int(1, 40)})`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] objectstore east-1 5xx ratio > 2%', 'objectstore', -300);
  I.pdNotify(page + 800, 'oncall', 'phone', -300);
  I.pdAck(ack, 'oncall', -300);
  I.pdNote(ms('2017-02-28T17:52:00Z'), 'ic', 'Index and placement subsystems lost most capacity at 17:37 after a capacity-removal command. Full restart of index required.', -300);
  I.pdNote(ms('2017-02-28T21:27:00Z'), 'ic', 'Index fully recovered 21:26: GET/LIST/DELETE OK. Placement still recovering.', -300);
  I.pdResolve(resolve, 'ic', -300);

  // ---- Slack
  const at = (hms) => ms(`2017-02-28T${hms}Z`);
  I.bot(at('17:38:46'), 'PagerDuty', ':rotating_light: *Triggered* #5120 [P1] objectstore east-1 5xx ratio > 2%');
  I.say(at('17:39:50'), 'oncall', 'ack. east-1 objectstore returning 503 on basically everything. GET, PUT, LIST');
  I.say(at('17:40:30'), 'web', 'console-8812 went out at 17:36, rolling it back to be safe?');
  I.say(at('17:41:05'), 'oncall', 'console is just the UI, errors are from the API fleet. frontend hosts are healthy, the index lookups fail');
  I.say(at('17:41:55'), 'billing', 'I ran capacity remove from CAP-REMOVE-03 at 17:37 to take a few billing hosts out. output says it matched 7 pools and removed 1684 hosts. I meant objstore-e1-billing and 4 hosts');
  I.say(at('17:42:30'), 'ic', 'ok thanks for saying it right away. IC here. index + placement lost most capacity. @idx can we put the hosts back?');
  I.say(at('17:44:10'), 'idx', "hosts can come back but index can't just resume: quorum lost everywhere, it needs a full restart and metadata validation. haven't done a full restart of east-1 index in years");
  I.say(at('17:46:00'), 'comms', 'status dashboard is failing to update, the icons are hosted on objectstore east-1');
  I.say(at('17:47:20'), 'web', 'the 5500 PUT/s limit raise for 5512-0923 at 17:34 could have overloaded index?');
  I.say(at('17:48:00'), 'idx', 'no, index is down because 70% of its hosts were removed, not load. hosts_in_service 1184 -> 402 at 17:37');
  I.say(at('17:55:30'), 'comms', 'posting updates to the social account until dashboard is fixed');
  I.say(at('18:10:00'), 'idx', 'index restart started. ETA hours, validation is slow at this size');
  I.say(at('19:20:15'), 'oncall', `for anyone debugging from bastion: ${I.secret('AKIAJNIMBUSLY7XQ3PLA')} is the read-only key for the index debug bucket, do not paste elsewhere`);
  I.say(at('20:40:30'), 'idx', 'index has enough capacity for GET/LIST/DELETE, ramping');
  I.say(at('21:26:40'), 'oncall', 'GET/LIST/DELETE error rate back to baseline');
  I.say(at('21:54:20'), 'idx', 'placement recovered, PUTs succeeding');
  I.say(at('22:01:50'), 'ic', 'resolving. follow-ups: capacity remove must refuse to drop a subsystem below min capacity, remove capacity slowly, partition index into smaller cells');
  I.bot(at('22:02:33'), 'PagerDuty', ':white_check_mark: *Resolved* #5120 [P1] objectstore east-1 5xx ratio > 2%');

  const incident = { id: 'PB5120Q', source: 'pagerduty', title: '[P1] objectstore east-1 5xx ratio > 2%', service: 'objectstore', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 5120, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://nimbusly.pagerduty.com/incidents/PB5120Q' };
  const bundle = I.bundle({ incident, channel: { id: 'C01OBJE1', name: 'inc-objectstore-east-1' } });
  const expected = {
    family: 'operator-action',
    trigger: null,
    spike_onset: { metric: 'objectstore.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['capacity remove', 'operator', 'command', 'index subsystem', 'index'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
