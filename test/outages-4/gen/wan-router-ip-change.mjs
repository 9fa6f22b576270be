// After Microsoft, 2023-01-25 (Azure / Microsoft 365 WAN): a planned change to the IP address of one WAN
// router sent a command that had not been vetted on that router model; it made the router message every
// other router in the WAN, all of which recomputed adjacency and forwarding tables and dropped packets
// meanwhile. Automated recovery brought most routers back; the rest were restarted by hand.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'wan-router-ip-change';
export const source = 'Microsoft Azure, "Post Incident Review (PIR) - Azure Networking - Global WAN issues" (tracking ID VSG1-B90, 2023-01-25)';

export function build() {
  const I = new Incident({ seed: 20230125, company: 'Chorusnet', domain: 'chorusnet.com' });
  I.person('oncall', 'Lena Hoffmann', { login: 'lhoffmann' });
  I.person('ic', 'Kwame Asante', { login: 'kasante' });
  I.person('wan', 'Nikolai Petrov', { login: 'npetrov' });
  I.person('app', 'Isabel Moreno', { login: 'imoreno' });
  I.person('dns', 'Grace Liu', { login: 'gliu' });
  const at = (t) => ms(`2023-01-25T${t}Z`);
  const from = at('05:00:00'), to = at('11:00:00');
  const change = at('07:05:08'), onset = at('07:05:40'), page = at('07:08:10'), ack = at('07:09:02'), auto = at('08:43:00'), resolve = at('09:52:40');

  I.commit('chorusnet/chat-frontend', { message: 'Presence: coalesce status updates per tenant', author: 'app', at: at('03:00:00'), files: [{ filename: 'src/presence/fanout.ts', patch: '@@ -12,3 +12,5 @@\n+const pending = new Map<string, Update[]>();\n+setInterval(flush, 250);' }] });
  I.deploy('chorusnet/chat-frontend', { env: 'production', ref: 'cf-20230125.1', description: 'chat-frontend 20230125.1 (ring 3)', createdAt: at('06:31:00'), finishedAt: at('06:44:09'), creator: 'imoreno' });
  const ce = I.changeEvent({ at: change, summary: 'wan-automation: change loopback IP on wan-fra-edge-07 (planned, CHG-55120)', integration: 'wan-automation', services: ['global-wan'], custom_details: { change: 'CHG-55120', device: 'wan-fra-edge-07', model: 'XR-9904', action: 'set loopback0 ip; clear adjacency refresh all', approved: true } });
  I.changeEvent({ at: at('07:05:25'), summary: 'DNS: weight for chat-eu.chorusnet.com shifted 50/50 -> 60/40 (fra/ams)', integration: 'dns-console', services: ['edge-dns'], custom_details: { record: 'chat-eu', weights: { fra: 60, ams: 40 } } });

  const loss = (t) => (t < onset ? 0 : t < auto ? 1 - 0.3 * (t - onset) / (auto - onset) : Math.max(0, 0.7 - 0.7 * (t - auto) / (60 * MIN)));
  I.series({ metric: 'wan.packet_loss', expression: 'avg:wan.packet_loss{backbone:global}', scope: 'backbone:global', interval: 20, from, to, unit: 'percent', fn: (t) => I.noise(0.05, 0.3) + loss(t) * I.noise(38, 0.2) });
  I.series({ metric: 'chat.requests.errors', expression: 'sum:chat.requests.errors{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'error', fn: (t) => I.noise(120, 0.2) + (t < onset + 60 * SEC ? 0 : loss(t) * I.noise(26000, 0.15)) });
  I.ddEvent({ at: at('06:44:09'), title: 'chat-frontend 20230125.1 ring 3 complete', source_type_name: 'deploy', tags: ['service:chat-frontend'] });

  const rtr = ['wan-ams-core-02', 'wan-iad-core-11', 'wan-sin-core-04', 'wan-gru-core-01'];
  I.log(change + 2 * SEC, 'wan-automation', 'info', 'netauto-3', 'CHG-55120: pushed to wan-fra-edge-07 (XR-9904): set loopback0 198.51.100.77/32; clear adjacency refresh all');
  I.log(change + 20 * SEC, 'router', 'warn', 'wan-fra-edge-07', 'adjacency refresh-all flooded to 1,904 neighbors (CHG-55120)');
  I.logsBetween(change + 25 * SEC, auto, 90, 'router', 'warn', rtr, () => `ISIS: full SPF + FIB reprogram triggered by LSP from wan-fra-edge-07; ${I.int(2000, 90000)} packets dropped during reprogram`);
  I.logsBetween(onset + 60 * SEC, auto + 30 * MIN, 70, 'chat-frontend', 'error', ['cf-weu-118', 'cf-eus-044'], () => `upstream timeout to ${I.pick(['auth-weu', 'msgstore-neu', 'presence-eus'])} after 10000ms`);
  I.logsBetween(from, to, 60, 'chat-frontend', 'info', ['cf-weu-118', 'cf-eus-044'], () => `POST /messages 200 ${I.int(20, 140)}ms`);
  I.log(at('08:43:00'), 'wan-health', 'info', 'wanhealth-1', 'automated recovery: 1,611/1,905 routers converged; 294 need manual restart');
  I.log(at('05:30:00'), 'wan-automation', 'info', 'netauto-3', `device auth loaded tacacs_key=${I.secret('tQk8-WAN-Chorus-2023-zP4')}`);

  I.say(at('07:09:30'), 'oncall', 'ack. chat errors everywhere, WAN packet loss 30-40% between regions');
  const th = I.say(at('07:10:10'), 'app', 'chat-frontend ring 3 finished 06:44. want me to halt it?');
  I.say(at('07:11:00'), 'oncall', 'the loss is on the WAN itself, between regions, for services that did not deploy. leave it', { thread: th });
  I.say(at('07:11:40'), 'dns', 'I moved chat-eu DNS weights at 07:05:25. reverting now just in case');
  I.say(at('07:16:00'), 'dns', 'weights reverted, no change in loss. and DNS weights cannot cause router-level drops');
  I.say(at('07:18:30'), 'wan', 'every core router logs a full SPF and FIB reprogram triggered by an LSP from wan-fra-edge-07. CHG-55120 at 07:05:08 changed its loopback IP and sent "clear adjacency refresh all". on that model it floods every neighbor');
  I.say(at('07:22:00'), 'ic', 'IC. stop wan-automation, no further changes. let automated recovery converge, restart the stragglers by hand');
  I.say(at('08:45:00'), 'wan', 'automated recovery converged 1611 routers by 08:43, restarting the remaining 294');
  I.say(at('09:50:00'), 'oncall', 'loss back to baseline, chat errors normal');
  I.say(at('09:52:00'), 'ic', 'resolving. follow-ups: block commands not qualified for a model, stage WAN changes');

  return finish(I, { page, ack, resolve, monitor: '[P1] chat requests failing > 5% (multi-region)', service: 'chat-frontend', number: 23125, oncall: 'oncall', ic: 'ic',
    notes: [[at('07:25:00'), 'CHG-55120 (router IP change on wan-fra-edge-07) flooded adjacency refresh to the whole WAN; routers reprogramming FIBs, packet loss.']],
    channel: { id: 'C0CHWAN23', name: 'inc-wan' }, family: 'shared-config', trigger: { kind: 'change_event', change_event_id: ce },
    metric: 'wan.packet_loss', scope: 'backbone:global', onset, terms: ['CHG-55120', 'IP address', 'router', 'adjacency', 'forwarding'] });
}
