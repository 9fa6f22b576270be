// After AWS, 2011-04-21: during a planned capacity upgrade, traffic was shifted off a primary router of
// the block-storage network, but onto the low-capacity replication network instead of the other primary
// router. Storage nodes lost their replica peers and, when connectivity returned, all searched for free
// space to re-mirror at once; the cluster ran out of space, volumes went "stuck" and the control plane's
// request queue backed up. Moving the traffic back did not stop the storm; cutting off new re-mirror
// negotiation and volume creation contained it.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'network-shift-remirror-storm';
export const source = 'AWS, "Summary of the Amazon EC2 and Amazon RDS Service Disruption in the US East Region" (aws.amazon.com/message/65648, 2011-04-29)';

export function build() {
  const I = new Incident({ seed: 20110421, company: 'Cumulo', domain: 'cumulo.cloud' });
  I.person('oncall', 'Bartosz Lewandowski', { login: 'blewandowski' });
  I.person('ic', 'Adaeze Okafor', { login: 'aokafor', slack: 'adaeze', email: 'adaeze.okafor@cumulo.cloud' });
  I.person('net', 'Rory Fitzgerald', { login: 'rfitzgerald' });
  I.person('blk', 'Mina Farahani', { login: 'mfarahani' });
  I.person('api', 'Jonas Becker', { login: 'jbecker' });
  const at = (t) => ms(`2011-04-21T${t}Z`);
  const from = at('05:00:00'), to = at('14:00:00');
  const shift = at('07:47:05'), onset = at('07:48:00'), page = at('07:50:40'), ack = at('07:51:20'), shiftBack = at('08:03:10'), stop = at('09:40:00'), resolve = at('13:30:00');

  const ce = I.changeEvent({ at: shift, summary: 'netops: CHG-2231 shift blockstore traffic off bs-core-r1 (capacity upgrade, zone ne-1a)', integration: 'netops-automation', services: ['blockstore-network'], custom_details: { ticket: 'CHG-2231', router: 'bs-core-r1', action: 'drain', target_path: 'bs-repl-net', zone: 'ne-1a' } });
  I.changeEvent({ at: at('07:47:40'), summary: 'monitoring: alert threshold for ebs-api p99 latency 800ms -> 1000ms', integration: 'monitoring-config', services: ['ebs-api'], custom_details: { monitor: 'ebs-api p99', from: '800ms', to: '1000ms' } });
  I.changeEvent({ at: shiftBack, summary: 'netops: CHG-2231 rollback, blockstore traffic back to bs-core-r1', integration: 'netops-automation', services: ['blockstore-network'], custom_details: { ticket: 'CHG-2231', action: 'undrain' } });
  I.changeEvent({ at: stop, summary: 'blockstore: disable re-mirror negotiation and CreateVolume in ne-1a', integration: 'blockstore-admin', services: ['blockstore'], custom_details: { zone: 'ne-1a', remirror: 'disabled', create_volume: 'disabled' } });
  I.commit('cumulo/console', { message: 'Volumes list: show attachment state column', author: 'api', at: at('03:00:00'), files: [{ filename: 'web/volumes/List.jsx', patch: '@@ -30,1 +30,2 @@\n+        <td>{v.attachment?.state}</td>' }] });
  I.deploy('cumulo/console', { env: 'production', ref: 'console-2011.04.21', description: 'console 2011.04.21', createdAt: at('06:50:00'), finishedAt: at('07:02:11'), creator: 'jbecker' });

  const stuck = (t) => (t < onset ? 0 : t < stop ? Math.min(1, 0.2 + (t - onset) / (60 * MIN)) : 1 - 0.6 * Math.min(1, (t - stop) / (200 * MIN)));
  I.series({ metric: 'blockstore.volumes.stuck', expression: 'sum:blockstore.volumes.stuck{zone:ne-1a}', scope: 'zone:ne-1a', interval: 30, from, to, fn: (t) => I.noise(4, 0.5) + stuck(t) * I.noise(13000, 0.03) });
  I.series({ metric: 'blockstore.remirror.searches', expression: 'sum:blockstore.remirror.searches{zone:ne-1a}.as_count()', scope: 'zone:ne-1a', interval: 30, from, to, fn: (t) => I.noise(6, 0.5) + (t >= onset && t < stop ? I.noise(48000, 0.1) : 0) });
  I.series({ metric: 'bs.net.repl.utilization', expression: 'max:bs.net.utilization{net:repl,zone:ne-1a}', scope: 'net:repl,zone:ne-1a', interval: 30, from, to, fn: (t) => (t >= shift && t < shiftBack ? 1 : I.noise(0.08, 0.3)) });

  const nodes = ['bs-1a-0412', 'bs-1a-1177', 'bs-1a-2093', 'bs-1a-0788'];
  I.logsBetween(shift + 20 * SEC, shiftBack, 40, 'blockstore-node', 'warn', nodes, () => `replica peer bs-1a-${I.int(1000, 2999)} unreachable over bs-repl-net (timeout 2000ms); entering re-mirror`);
  I.logsBetween(onset, stop, 120, 'blockstore-node', 'error', nodes, () => `re-mirror vol-${I.hex(8)}: no node with free space found (attempt ${I.int(2, 900)}); volume blocked for I/O`);
  I.logsBetween(onset + 5 * MIN, stop, 60, 'ebs-api', 'error', ['ebs-api-3', 'ebs-api-8'], () => `CreateVolume ${I.hex(8)} timed out after 30000 ms waiting on blockstore control plane (queue depth ${I.int(9000, 40000)})`);
  I.log(shift - 3000, 'netops-automation', 'info', 'nops-2', `CHG-2231 drain bs-core-r1: next-hop set to bs-repl-net (expected bs-core-r2) auth=${I.secret('netops:Qm7vT2kX9pLr4Zc8')}`);
  I.logsBetween(from, to, 30, 'console', 'info', ['console-1'], () => `GET /volumes 200 ${I.int(50, 400)}ms`);

  I.say(at('07:51:40'), 'oncall', 'ack. thousands of volumes stuck in ne-1a and climbing, API CreateVolume timing out');
  const th = I.say(at('07:52:30'), 'api', 'console release went out 07:02, only a display column, but it reads the volumes API');
  I.say(at('07:53:10'), 'blk', 'the console only reads. nodes started losing their replica peers over bs-repl-net at 07:47:25, then everyone is searching for space to re-mirror', { thread: th });
  I.say(at('07:54:00'), 'oncall', 'someone changed the ebs-api latency alert at 07:47:40');
  I.say(at('07:54:30'), 'ic', 'that is a threshold, it cannot stall volumes');
  I.say(at('07:58:00'), 'net', 'CHG-2231 at 07:47:05 drained bs-core-r1 onto bs-repl-net, the replication network, instead of bs-core-r2. repl net pinned at 100% since. rolling back the shift');
  I.say(at('08:05:00'), 'net', 'traffic back on bs-core-r1 at 08:03:10');
  I.say(at('08:40:00'), 'blk', 'network is fine now but the storm continues: nodes keep retrying re-mirror and there is no free space left in the zone. need to stop negotiation');
  I.say(at('09:42:00'), 'blk', 're-mirror negotiation and CreateVolume disabled 09:40, control plane queue draining, stuck count stopped rising');
  I.say(at('13:30:00'), 'ic', 'resolving the acute incident; recovering remaining stuck volumes as capacity is added. follow-ups: automation must validate the drain target, back-off in re-mirror, isolate control plane per zone');

  return finish(I, { page, ack, resolve, monitor: 'stuck volumes > 100 (ne-1a)', service: 'blockstore', number: 11421, oncall: 'oncall', ic: 'ic',
    notes: [[at('08:00:00'), 'CHG-2231 drained blockstore traffic onto replication network; re-mirror storm. Shift rolled back, containing storm.']],
    channel: { id: 'C0CMLEBS11', name: 'inc-blockstore-stuck' }, family: 'network-change', trigger: { kind: 'change_event', change_event_id: ce },
    metric: 'blockstore.volumes.stuck', scope: 'zone:ne-1a', onset, terms: ['CHG-2231', 're-mirror', 'bs-repl-net', 'drain', 'stuck'] });
}
