// After Google Cloud, 2019-06-02: a maintenance event meant for a few servers in one location was applied
// to servers in several neighbouring locations; the cluster manager descheduled the network control plane
// jobs running there. Routers kept forwarding on their last state ("fail static") for a few minutes, then
// routes expired and the regions lost more than half their network capacity; congestion dropped traffic
// for hours while the control plane was rebuilt on a congested network.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'maintenance-deschedule-network-control';
export const source = 'Google Cloud Status, incident report 19009 "Google Cloud Networking Incident #19009" (2019-06-02) and "An update on Sunday\'s service disruption" (cloud.google.com blog, 2019-06-03)';

export function build() {
  const I = new Incident({ seed: 20190602, company: 'Lumenvale', domain: 'lumenvale.cloud' });
  I.person('oncall', 'Emma Kowalczyk', { login: 'ekowalczyk' });
  I.person('ic', 'Samuel Adebayo', { login: 'sadebayo' });
  I.person('net', 'Hiroshi Nakagawa', { login: 'hnakagawa' });
  I.person('cm', 'Leila Haddadi', { login: 'lhaddadi' });
  I.person('storage', 'Victor Petrov', { login: 'vpetrov' });
  const at = (t) => ms(`2019-06-02T${t}Z`);
  const from = at('16:00:00'), to = at('23:30:00');
  const mnt = at('18:41:20'), onset = at('18:45:30'), page = at('18:47:50'), ack = at('18:48:30'), restore = at('21:03:00'), resolve = at('22:40:10');

  I.commit('lumenvale/blobstore-frontend', { message: 'frontend: raise multipart part limit to 10000', author: 'storage', at: at('12:00:00'), files: [{ filename: 'frontend/limits.go', patch: '@@ -9,1 +9,1 @@\n-const MaxParts = 5000\n+const MaxParts = 10000' }] });
  I.deploy('lumenvale/blobstore-frontend', { env: 'us-east', ref: 'bsf-1942', description: 'blobstore-frontend 1942', createdAt: at('18:20:00'), finishedAt: at('18:43:52'), creator: 'vpetrov' });
  I.commit('lumenvale/blobstore-frontend', { message: 'frontend: log part count on complete', author: 'storage', at: at('09:00:00'), files: [{ filename: 'frontend/complete.go', patch: '@@ -30,1 +30,2 @@\n+\tlog.Info("complete", "parts", len(parts))' }] });
  I.deploy('lumenvale/blobstore-frontend', { env: 'us-east', ref: 'bsf-1941', description: 'blobstore-frontend 1941', createdAt: at('16:40:00'), finishedAt: at('16:58:15'), creator: 'vpetrov' });
  const ce = I.changeEvent({ at: mnt, summary: 'fleet-maintenance: MNT-60217 started (kernel upgrade, drain + deschedule)', integration: 'fleet-maintenance', services: ['cluster-manager'], custom_details: { ticket: 'MNT-60217', intended_scope: 'cell use4-b, 60 machines', selector: 'zone=us-east*', matched_machines: 3412, matched_cells: ['use4-b', 'use4-c', 'use1-a', 'use1-d', 'use5-a'], deschedule_policy: 'all jobs incl. priority=infra' } });

  const cong = (t) => (t < onset ? 0 : t < restore ? 1 : Math.max(0, 1 - (t - restore) / (90 * MIN)));
  I.series({ metric: 'net.interregion.packet_loss', expression: 'avg:net.interregion.packet_loss{region:us-east}', scope: 'region:us-east', interval: 30, from, to, unit: 'percent', fn: (t) => I.noise(0.05, 0.5) + cong(t) * I.noise(38, 0.12) });
  I.series({ metric: 'net.capacity.available_tbps', expression: 'sum:net.capacity.available_tbps{region:us-east}', scope: 'region:us-east', interval: 60, from, to, fn: (t) => I.noise(96, 0.01) * (1 - 0.55 * cong(t)) });
  I.ddEvent({ at: at('18:43:52'), title: 'blobstore-frontend 1942 deployed to us-east', source_type_name: 'deploy', tags: ['service:blobstore-frontend'] });

  I.logsBetween(mnt + 10 * SEC, mnt + 3 * MIN, 30, 'cluster-manager', 'info', ['cm-use4-b', 'cm-use4-c', 'cm-use1-a', 'cm-use5-a'], () => `MNT-60217: descheduling job ${I.pick(['netctl-sdn', 'netctl-bgp-speaker', 'netctl-te', 'blobstore-meta'])}.${I.int(0, 40)} (priority=infra) on ${I.pick(['use4-c', 'use1-a', 'use1-d', 'use5-a', 'use4-b'])}`);
  I.logsBetween(onset - 20 * SEC, onset + 4 * MIN, 40, 'router', 'warn', ['r1.use4', 'r2.use1', 'r3.use5'], () => `BGP session to netctl-bgp-speaker.${I.int(0, 40)} down: hold timer expired (fail-static window ended); withdrawing ${I.int(40, 900)} routes`);
  I.logsBetween(onset, restore + 60 * MIN, 80, 'blobstore-frontend', 'error', ['bsf-use4-08', 'bsf-use1-22'], () => `upstream replica read timeout after 2000ms (cross-region, ${I.pick(['use1', 'use5', 'use4'])})`);
  I.logsBetween(from, to, 50, 'blobstore-frontend', 'info', ['bsf-use4-08', 'bsf-use1-22'], () => `PUT /b/${I.hex(6)}/o 200 ${I.int(20, 200)}ms`);
  I.log(at('18:30:00'), 'fleet-maintenance', 'info', 'fm-1', `calling cluster-manager API with Authorization: Bearer ${I.secret('lv-fm-3c9Q0xPzRtW8mE2s')}`);

  I.say(at('18:49:00'), 'oncall', 'ack. packet loss ~40% between us-east regions, everything cross-region timing out');
  const th = I.say(at('18:49:40'), 'storage', 'blobstore-frontend 1942 landed in us-east 18:43. rolling back');
  I.say(at('18:51:30'), 'net', 'frontend cannot drop packets on the backbone. routers are withdrawing routes because the BGP speakers are gone: netctl jobs were descheduled', { thread: th });
  I.say(at('18:55:00'), 'cm', 'MNT-60217 started 18:41:20. it was meant for use4-b only (60 machines) but the selector is zone=us-east*, it matched 3412 machines in 5 cells, and the deschedule policy includes priority=infra jobs, so it took the network control plane with it');
  I.say(at('18:56:00'), 'net', 'fail-static kept forwarding for ~4 min, then sessions timed out 18:45. capacity down by half');
  I.say(at('18:58:00'), 'ic', 'IC. stop MNT-60217, reschedule netctl jobs first. frontend rollback can go ahead but do not expect anything from it');
  I.say(at('19:40:00'), 'storage', 'frontend rollback done, no change in loss as expected');
  I.say(at('21:05:00'), 'net', 'netctl jobs back and config rebuilt 21:03 (slow: the tooling traffic was stuck in the same congestion). routes returning');
  I.say(at('22:40:00'), 'ic', 'loss at baseline. resolving. follow-ups: maintenance never deschedules priority=infra jobs, selector scope check against intended_scope, longer fail-static');

  return finish(I, { page, ack, resolve, monitor: 'inter-region packet loss > 2% (us-east)', service: 'network', number: 19602, oncall: 'oncall', ic: 'ic',
    notes: [[at('19:00:00'), 'MNT-60217 selector matched 5 cells and descheduled network control plane jobs; capacity halved. Rescheduling netctl.']],
    channel: { id: 'C0LMVNET19', name: 'inc-network-us-east' }, family: 'cross-repo-infra', trigger: { kind: 'change_event', change_event_id: ce },
    metric: 'net.interregion.packet_loss', scope: 'region:us-east', onset, terms: ['MNT-60217', 'maintenance', 'deschedule', 'network control plane', 'netctl'] });
}
