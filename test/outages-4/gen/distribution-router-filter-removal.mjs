// After Rogers, 2022-07-08: phase six of a seven-phase upgrade of the IP core removed an access-list
// policy filter on the distribution routers; they then flooded the core routers with routes, which
// exceeded the core routers' capacity and took wireline and wireless service down nationally.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'distribution-router-filter-removal';
export const source = 'Rogers Communications, response to the CRTC (2022-07-22) and the CRTC-commissioned Xona Partners assessment of the July 8, 2022 outage (published 2024)';

export function build() {
  const I = new Incident({ seed: 20220708, company: 'Maplelink', domain: 'maplelink.ca', pdSubdomain: 'maplelink' });
  I.person('oncall', 'Étienne Gagnon', { login: 'egagnon' });
  I.person('ic', 'Rachel Thibodeau', { login: 'rthibodeau' });
  I.person('core', 'Arjun Mehta', { login: 'amehta' });
  I.person('dist', 'Colleen MacLeod', { login: 'cmacleod' });
  I.person('mob', 'Hyun-woo Park', { login: 'hpark', slack: 'hyunwoo.park', email: 'hyunwoo.park@maplelink.ca' });
  const at = (t) => ms(`2022-07-08T${t}Z`);
  const from = at('06:00:00'), to = at('20:00:00');
  const onset = at('08:45:40'), page = at('08:47:10'), ack = at('08:48:00'), isolate = at('15:30:00'), resolve = at('19:58:00');

  const NC = 'maplelink/ipcore-config';
  I.commit(NC, { message: 'Phase 5: upgrade distribution tier west (dist-w-*) to policy set v7', author: 'dist', at: ms('2022-07-05T12:00:00Z'), files: [{ filename: 'dist/west/policy.conf', patch: '@@ -1,4 +1,4 @@\n-include policy-set-v6\n+include policy-set-v7' }] });
  I.deploy(NC, { env: 'phase-5-dist-west', ref: 'ipc-p5', description: 'IP core upgrade phase 5/7: distribution west', createdAt: ms('2022-07-06T08:00:00Z'), finishedAt: ms('2022-07-06T09:12:40Z') });
  const bad = I.commit(NC, { message: 'Phase 6: distribution tier east to policy set v7; drop legacy ACL DIST-TO-CORE-V4\n\nv7 filters in the route-policy, so the ACL is redundant.', author: 'dist', at: ms('2022-07-07T15:00:00Z'), files: [
    { filename: 'dist/east/policy.conf', patch: '@@ -1,9 +1,6 @@\n-include policy-set-v6\n+include policy-set-v7\n-ipv4 access-list DIST-TO-CORE-V4\n- 10 permit 10.200.0.0/14 le 24\n- 20 deny any\n-neighbor-group CORE address-family ipv4 unicast route-policy DIST-OUT in acl DIST-TO-CORE-V4\n+neighbor-group CORE address-family ipv4 unicast route-policy DIST-OUT' },
  ] });
  const trig = I.deploy(NC, { env: 'phase-6-dist-east', ref: 'ipc-p6', description: 'IP core upgrade phase 6/7: distribution east', createdAt: at('08:20:00'), finishedAt: at('08:43:55'), creator: 'cmacleod' });
  I.commit('maplelink/mobile-core', { message: 'MME: raise S1 setup retry to 3', author: 'mob', at: ms('2022-07-07T10:00:00Z'), files: [{ filename: 'mme/s1.yaml', patch: '@@ -3,1 +3,1 @@\n-s1_setup_retries: 2\n+s1_setup_retries: 3' }] });
  I.deploy('maplelink/mobile-core', { env: 'production', ref: 'mc-0708', description: 'mobile-core mc-0708', createdAt: at('08:36:00'), finishedAt: at('08:44:50'), creator: 'hpark' });
  I.commit('maplelink/router-telemetry', { message: 'Export per-VRF route counts every 30s', author: 'core', at: ms('2022-07-06T10:00:00Z'), files: [{ filename: 'agent/export.py', patch: '@@ -9,2 +9,2 @@\n-INTERVAL = 60\n+INTERVAL = 30' }] });
  I.deploy('maplelink/router-telemetry', { env: 'production', ref: 'rt-42', description: 'router-telemetry agent rt-42', createdAt: at('08:40:00'), finishedAt: at('08:45:10') });

  const down = (t) => (t < onset ? 0 : t < isolate ? 1 : Math.max(0, 1 - (t - isolate) / (4 * 3600_000)));
  I.series({ metric: 'core.bgp.routes', expression: 'avg:core.bgp.routes{tier:core}', scope: 'tier:core', interval: 30, from, to, unit: 'route', fn: (t) => (t < onset ? I.noise(1_050_000, 0.002) : t < isolate ? I.noise(4_600_000, 0.05) : I.noise(1_050_000, 0.002)) });
  I.series({ metric: 'subscribers.sessions.failed', expression: 'sum:subscribers.sessions.failed{*}.as_count()', scope: '*', interval: 60, from, to, fn: (t) => I.noise(300, 0.3) + (t < onset + 60 * SEC ? 0 : down(t) * I.noise(180000, 0.08)) });
  I.ddEvent({ at: trig.finishedAt, title: 'ipcore-config phase 6/7 (distribution east) applied', source_type_name: 'deploy', tags: ['service:ipcore'] });

  const core = ['cr-tor-01', 'cr-tor-02', 'cr-mtl-01', 'cr-van-01'];
  I.log(at('08:44:30'), 'router', 'info', 'dr-east-14', 'commit ipc-p6: access-list DIST-TO-CORE-V4 removed from neighbor-group CORE');
  I.log(at('08:45:20'), 'router', 'warn', 'dr-east-14', 'BGP: advertising 3,541,208 prefixes to CORE (previously 41,877)');
  I.logsBetween(onset, isolate, 60, 'router', 'error', core, () => I.pick(['%ROUTING-BGP-5-MAXPFX: prefix limit exceeded from dr-east-' + I.int(10, 30), '%PLATFORM-MEM-1-CRITICAL: memory exhausted, process bgp restarting', '%ROUTING-FIB-3-OVERFLOW: FIB table full, dropping routes']));
  I.logsBetween(onset + 60 * SEC, isolate, 60, 'mobile-core', 'error', ['mme-tor-2', 'sgw-mtl-1'], () => `S1 path to ${I.pick(core)} unreachable, attach rejected`);
  I.logsBetween(from, to, 50, 'router-telemetry', 'info', core, () => `exported route counts vrf=default`);
  I.log(at('07:00:00'), 'ipcore-config', 'info', 'netauto-1', `ssh deploy key passphrase=${I.secret('Mpl-Core!2022-p6-Xq')}`);

  I.say(at('08:48:30'), 'oncall', 'ack. national outage: subscriber sessions failing, core routers unreachable from the NOC');
  const th = I.say(at('08:49:30'), 'mob', 'mobile-core mc-0708 finished 08:44:50, S1 retry change. rolling back');
  I.say(at('08:51:00'), 'oncall', 'wireline is down too, mobile-core cannot do that. core routers are out of memory', { thread: th });
  I.say(at('08:52:00'), 'core', 'the telemetry agent rt-42 landed 08:45 on the core. could export every 30s eat memory?');
  I.say(at('09:10:00'), 'core', 'no, the core logs show MAXPFX and FIB overflow: 3.5M prefixes arriving from the east distribution routers');
  I.say(at('09:25:00'), 'dist', 'phase 6 (ipc-p6) finished 08:43:55 on the east distribution routers. it removed ACL DIST-TO-CORE-V4; v7 filters in the route-policy but east still has the v6 neighbor config, so nothing filters now. phase 5 in the west kept the ACL');
  I.say(at('09:40:00'), 'ic', 'IC. we have no management access to most core routers. get console access on site, isolate the east distribution routers, then roll phase 6 back');
  I.say(at('15:35:00'), 'dist', 'east distribution isolated and ipc-p6 rolled back on console; core routers recovering one by one');
  I.say(at('19:55:00'), 'ic', 'service restored nationally. resolving. follow-ups: out-of-band management, staged core changes with route-count checks');

  return finish(I, { page, ack, resolve, monitor: '[P1] subscriber session failures > 10% (national)', service: 'ipcore', number: 70822, oncall: 'oncall', ic: 'ic',
    notes: [[at('09:30:00'), 'ipc-p6 removed ACL DIST-TO-CORE-V4 on the east distribution routers; core flooded with routes, exhausted. Isolating and rolling back.']],
    channel: { id: 'C0MLCORE22', name: 'inc-national-core' }, family: 'cross-repo-infra', trigger: { repo: NC, sha: bad, deployment_id: trig.id },
    metric: 'core.bgp.routes', scope: 'tier:core', onset, deployAt: trig.finishedAt, terms: ['ipc-p6', 'DIST-TO-CORE-V4', 'access list', 'distribution', 'routes'] });
}
