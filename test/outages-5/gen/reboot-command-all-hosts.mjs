// After Joyent, 2014-05-27: an operator using a tool to reboot a few compute nodes gave it an input that
// the tool read as "every node", without confirmation; every server in the us-east-1 data centre rebooted
// at once. Instances came back over the next hour, the API later (its own nodes had to boot first).
// No deployment or configuration change was involved: it was a command run by hand.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'reboot-command-all-hosts';
export const source = 'Joyent, "Postmortem for outage of us-east-1" (joyent.com blog, 2014-05-28)';

export function build() {
  const I = new Incident({ seed: 20140527, company: 'Cedarjoin', domain: 'cedarjoin.io' });
  I.person('oncall', 'Marta Oliveira', { login: 'moliveira' });
  I.person('ic', 'Kwame Asante', { login: 'kasante' });
  I.person('ops', 'Brendan Walsh', { login: 'bwalsh' });
  I.person('api', 'Yuki Tanabe', { login: 'ytanabe' });
  I.person('img', 'Sofia Lindqvist', { login: 'slindqvist' });
  const at = (t) => ms(`2014-05-27T${t}Z`);
  const from = at('17:00:00'), to = at('23:30:00');
  const cmd = at('20:13:05'), onset = at('20:13:40'), page = at('20:15:20'), ack = at('20:15:58'), apiBack = at('21:16:00'), resolve = at('22:31:10');

  I.commit('cedarjoin/cloudapi', { message: 'cloudapi: include brand in ListMachines output', author: 'api', at: at('14:00:00'), files: [{ filename: 'lib/machines.js', patch: '@@ -212,1 +212,2 @@\n     memory: m.max_physical_memory,\n+    brand: m.brand,' }] });
  I.deploy('cedarjoin/cloudapi', { env: 'us-east-1', ref: 'cloudapi-20140527', description: 'cloudapi release 20140527', createdAt: at('18:40:00'), finishedAt: at('18:56:12'), creator: 'ytanabe' });
  I.changeEvent({ at: at('19:41:30'), summary: 'Image registry: promoted base-64-lts 14.1.0 to default', integration: 'imgapi-admin', services: ['imgapi'], custom_details: { image: 'base-64-lts', from: '13.4.1', to: '14.1.0' } });

  const down = (t) => (t < onset ? 0 : t < onset + 12 * MIN ? 1 : Math.max(0.02, 1 - (t - onset - 12 * MIN) / (50 * MIN)));
  I.series({ metric: 'cloud.instances.unreachable', expression: 'sum:cloud.instances.unreachable{dc:us-east-1}', scope: 'dc:us-east-1', interval: 30, from, to, unit: 'instance', fn: (t) => I.noise(12, 0.4) + down(t) * I.noise(21800, 0.02) });
  I.series({ metric: 'cloudapi.http.5xx', expression: 'sum:cloudapi.http.5xx{dc:us-east-1}.as_count()', scope: 'dc:us-east-1', interval: 60, from, to, unit: 'response', fn: (t) => I.noise(4, 0.5) + (t > onset && t < apiBack ? I.noise(900, 0.1) : 0) });
  I.ddEvent({ at: at('18:56:12'), title: 'cloudapi 20140527 deployed to us-east-1', source_type_name: 'deploy', tags: ['service:cloudapi'] });

  I.log(cmd, 'ops-audit', 'info', 'headnode-use1', 'user=bwalsh tty=pts/3 cwd=/opt/ops cmd="cn-exec --nodes \\"$TARGETS\\" --yes -- shutdown -r now"  # ticket OPS-7731 reboot 3 nodes for nic firmware');
  I.log(cmd + 400, 'cn-exec', 'warn', 'headnode-use1', 'node filter is empty: targeting ALL compute nodes in us-east-1 (1,142)');
  I.log(cmd + 900, 'cn-exec', 'info', 'headnode-use1', 'dispatched "shutdown -r now" to 1142/1142 nodes (--yes: confirmation skipped)');
  const cns = ['CN-0417', 'CN-0803', 'CN-1122', 'CN-0056'];
  I.logsBetween(onset, onset + 4 * MIN, 60, 'kernel', 'info', cns, () => `system boot, uptime 0s, last shutdown: operator request (shutdown -r) at 20:13:0${I.int(5, 9)}`);
  I.logsBetween(onset + 2 * MIN, at('21:05:00'), 50, 'vmadmd', 'warn', cns, () => `zone ${I.hex(8)}-${I.hex(4)} boot queued (${I.int(2, 40)} ahead), storage pool import in progress`);
  I.logsBetween(onset, apiBack, 50, 'cloudapi', 'error', ['cloudapi-0', 'cloudapi-1'], () => `GET /my/machines 503 moray unavailable (connect ECONNREFUSED 10.${I.int(10, 20)}.4.${I.int(2, 60)}:2020)`);
  I.logsBetween(from, to, 50, 'cloudapi', 'info', ['cloudapi-0', 'cloudapi-1'], () => `GET /my/images 200 ${I.int(15, 90)}ms`);
  I.log(at('18:20:00'), 'ops-audit', 'info', 'headnode-use1', `user=ytanabe cmd="sdc-login -u admin -p ${I.secret('Cj-adm1n-use1-Zp44q')} cloudapi0"`);

  I.say(at('20:16:20'), 'oncall', 'ack. whole us-east-1 unreachable, every instance at once');
  const th = I.say(at('20:17:00'), 'api', 'cloudapi release went out 18:56, rolling back just in case');
  I.say(at('20:18:10'), 'oncall', 'cloudapi cannot take down customer instances, and the nodes themselves rebooted: kernel logs show uptime 0 on every CN at 20:13', { thread: th });
  I.say(at('20:19:00'), 'img', 'I promoted a new default base image at 19:41, but only new provisions use it');
  I.say(at('20:20:30'), 'ops', 'it was me. I ran cn-exec to reboot 3 nodes for OPS-7731; the $TARGETS variable was empty in that shell and cn-exec took an empty filter as all nodes. --yes skipped the prompt. 1142 nodes rebooted at 20:13:05');
  I.say(at('20:24:00'), 'ic', 'IC. no rollback possible, let nodes boot. prioritise headnode services (moray, cloudapi) then customer zones. nobody runs cn-exec until it refuses an empty filter');
  I.say(at('21:18:00'), 'api', 'cloudapi answering again 21:16');
  I.say(at('22:30:00'), 'ic', 'all but a handful of zones running. resolving. follow-ups: cn-exec must reject empty filters and confirm above N nodes, regardless of --yes');

  return finish(I, { page, ack, resolve, monitor: 'us-east-1 unreachable instances > 500', service: 'compute', number: 14527, opsgenie: true, ogId: 'e1f0c3b2-7a44-4c19-9d0e-3b6a5f218c70', oncall: 'oncall', ic: 'ic',
    notes: [[at('20:25:00'), 'cn-exec with an empty node filter rebooted all 1142 compute nodes in us-east-1 at 20:13:05. Recovery = boot.']],
    channel: { id: 'C0CDJUSE1', name: 'inc-us-east-1' }, family: 'operator-action', trigger: null,
    metric: 'cloud.instances.unreachable', scope: 'dc:us-east-1', onset, terms: ['cn-exec', 'reboot', 'empty', 'all compute nodes', 'operator'] });
}
