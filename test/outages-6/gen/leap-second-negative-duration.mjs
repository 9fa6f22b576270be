// After Cloudflare, 2017-01-01: at the leap second the wall clock stepped back one second. The recursive
// DNS service picked upstream resolvers weighted by measured round-trip time, computed as a difference of
// two wall-clock readings; a negative result reached rand.Int63n, which panics on arguments <= 0. CNAME
// lookups that needed an upstream failed on part of the fleet until a guard was deployed.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'leap-second-negative-duration';
export const source = 'Cloudflare, "How and why the leap second affected Cloudflare DNS" (blog.cloudflare.com, 2017-01-01)';

export function build() {
  const I = new Incident({ seed: 20170101, company: 'Nimbusgate', domain: 'nimbusgate.net' });
  I.person('oncall', 'Olumide Adeyemi', { login: 'oadeyemi' });
  I.person('ic', 'Katarzyna Wrobel', { login: 'kwrobel', slack: 'kasia', email: 'kasia@nimbusgate.net' });
  I.person('dns', 'Ethan Brightwater', { login: 'ebrightwater' });
  I.person('edge', 'Chiara Romano', { login: 'cromano' });
  const at = (t) => ms(t.length <= 8 ? `2017-01-01T${t}Z` : t);
  const from = at('2016-12-31T21:00:00'), to = at('08:00:00');
  const onset = at('00:00:00'), page = at('00:02:20'), ack = at('00:03:00'), fixDeploy = at('06:45:10'), resolve = at('07:05:00');

  const R = 'nimbusgate/resolverd';
  const latent = I.commit(R, { message: 'upstream: weight resolver choice by observed RTT', author: 'dns', at: ms('2016-07-12T09:00:00Z'), files: [{ filename: 'upstream/select.go', patch: '@@ -30,6 +30,14 @@ func (p *Pool) Pick() *Upstream {\n+\tvar total int64\n+\tfor _, u := range p.ups {\n+\t\ttotal += u.weight()\n+\t}\n+\tn := rand.Int63n(total)\n@@ -71,3 +79,6 @@ func (u *Upstream) observe(start time.Time) {\n+\trtt := time.Now().Sub(start)\n+\tu.rtt = (u.rtt*7 + rtt) / 8\n+}\n+func (u *Upstream) weight() int64 { return int64(maxRTT - u.rtt) }' }] });
  I.deploy(R, { env: 'edge-all', ref: 'resolverd-2016.07.19', description: 'resolverd 2016.07.19', createdAt: ms('2016-07-19T08:00:00Z'), finishedAt: ms('2016-07-19T14:10:00Z') });
  I.commit(R, { message: 'cache: raise negative-cache ceiling to 15m', author: 'dns', at: at('2016-12-29T10:00:00'), files: [{ filename: 'cache/neg.go', patch: '@@ -9,1 +9,1 @@\n-const negMax = 5 * time.Minute\n+const negMax = 15 * time.Minute' }] });
  I.deploy(R, { env: 'edge-all', ref: 'resolverd-2016.12.31', description: 'resolverd 2016.12.31', createdAt: at('2016-12-31T21:40:00'), finishedAt: at('2016-12-31T22:18:30'), creator: 'ebrightwater' });
  I.commit('nimbusgate/edge-config', { message: 'tls: prefer X25519 first', author: 'edge', at: at('2016-12-31T15:00:00'), files: [{ filename: 'tls/curves.conf', patch: '@@ -1,1 +1,1 @@\n-ssl_ecdh_curve prime256v1:X25519;\n+ssl_ecdh_curve X25519:prime256v1;' }] });
  I.deploy('nimbusgate/edge-config', { env: 'global', ref: 'ec-1231', description: 'edge-config ec-1231', createdAt: at('2016-12-31T23:20:00'), finishedAt: at('2016-12-31T23:36:50'), creator: 'cromano' });
  const fix = I.commit(R, { message: 'upstream: never pass non-positive weights to rand; clamp RTT at 0 (clock steps)', author: 'dns', at: at('04:50:00'), files: [{ filename: 'upstream/select.go', patch: '@@ -79,3 +79,6 @@\n \trtt := time.Now().Sub(start)\n+\tif rtt < 0 {\n+\t\trtt = 0\n+\t}' }] });
  I.deploy(R, { env: 'edge-all', ref: 'resolverd-2017.01.01', description: 'resolverd 2017.01.01 (leap second hotfix)', createdAt: at('05:40:00'), finishedAt: fixDeploy, creator: 'ebrightwater', commits: [fix] });

  const bad = (t) => (t < onset ? 0 : t < fixDeploy ? 1 : 0);
  I.series({ metric: 'resolverd.servfail', expression: 'sum:resolverd.servfail{*}.as_count()', scope: '*', interval: 30, from, to, unit: 'response', fn: (t) => I.noise(140, 0.15) + bad(t) * I.noise(52000, 0.1) });
  I.series({ metric: 'resolverd.restarts', expression: 'sum:resolverd.restarts{*}.as_count()', scope: '*', interval: 60, from, to, fn: (t) => I.noise(0.2, 1) + bad(t) * I.noise(310, 0.1) });
  I.ddEvent({ at: at('2016-12-31T23:36:50'), title: 'edge-config ec-1231 deployed (global)', source_type_name: 'deploy', tags: ['service:edge'] });

  I.log(at('2016-12-31T23:59:59'), 'kernel', 'warn', 'dns-ams-04', 'Clock: inserting leap second 23:59:60 UTC');
  const hosts = ['dns-ams-04', 'dns-sjc-11', 'dns-sin-02', 'dns-fra-07'];
  I.logsBetween(onset, fixDeploy, 120, 'resolverd', 'error', hosts, () => `panic: invalid argument to Int63n\n\ngoroutine ${I.int(1000, 90000)} [running]:\nmath/rand.(*Rand).Int63n(0xc4200a2000, 0x${I.pick(['0', 'fffffffffff1d8a0', 'ffffffffffe3b2c0'])})\n\t/usr/local/go/src/math/rand/rand.go:111\nnimbusgate/resolverd/upstream.(*Pool).Pick(0xc420312d80)\n\t/build/upstream/select.go:35\nnimbusgate/resolverd/recurse.resolveCNAME(...)\n\t/build/recurse/cname.go:62`);
  I.logsBetween(from, to, 30, 'edge-nginx', 'info', ['edge-ams-1'], () => `TLS handshake ok curve=X25519 ${I.int(1, 9)}ms`);
  I.log(at('05:58:00'), 'deployer', 'info', 'deploy-1', `fetching artifact https://artifacts.nimbusgate.net/resolverd/2017.01.01.tar.gz?X-Amz-Signature=${I.secret('9c1f7e3ab04d2e8f6a5b7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b')}`);

  I.say(at('00:03:20'), 'oncall', 'ack. SERVFAIL up ~300x and resolverd restarting on many PoPs. happy new year');
  const th = I.say(at('00:04:10'), 'edge', 'my ec-1231 TLS curve change went global 23:36. not DNS, but want me to revert?');
  I.say(at('00:05:00'), 'dns', 'not needed: TLS handshakes fine, and the failures are resolverd panics "invalid argument to Int63n" in upstream.Pick', { thread: th });
  I.say(at('00:06:00'), 'oncall', 'resolverd 2016.12.31 went out at 22:18, roll that back?');
  I.say(at('00:08:30'), 'dns', 'that is the negative-cache ceiling only, and it ran 1.7 h clean. everything started at exactly 00:00:00, the leap second. the RTT is time.Now().Sub(start) on the wall clock: the clock stepped back 1s, RTT went negative, weight went <= 0, Int63n panics. code from July, upstream/select.go');
  I.say(at('00:15:00'), 'ic', 'IC. write a guard that clamps RTT and ship it; route CNAME-heavy traffic to PoPs that are not panicking meanwhile');
  I.say(at('06:47:00'), 'dns', 'hotfix 2017.01.01 everywhere 06:45, no panics since');
  I.say(at('07:05:00'), 'ic', 'resolving. follow-ups: monotonic clock for durations everywhere, fuzz rand arguments, leap second test in CI');

  return finish(I, { page, ack, resolve, monitor: 'resolverd SERVFAIL rate high', service: 'resolverd', number: 17011, oncall: 'oncall', ic: 'ic',
    notes: [[at('00:12:00'), 'Leap second stepped the clock back; negative RTT reaches rand.Int63n and panics. Hotfix in progress.']],
    channel: { id: 'C0NMBSLEAP', name: 'inc-dns-servfail' }, family: 'clock', trigger: null, latent: { repo: R, sha: latent },
    metric: 'resolverd.servfail', scope: '*', onset, terms: ['leap second', 'Int63n', 'RTT', 'negative', 'select.go'] });
}
