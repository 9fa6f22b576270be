// After Cloudflare, 2019-06-24: a small network's BGP optimizer generated more-specific routes for
// other networks' prefixes; it leaked them to its upstream, a large transit provider, which accepted and
// propagated them without filtering. Much of the Internet sent traffic for the affected prefixes through
// the small network, which dropped it. It ended when the transit provider filtered the leak. No change
// of ours was involved.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'transit-route-leak';
export const source = 'Cloudflare, "How Verizon and a BGP Optimizer Knocked Large Parts of the Internet Offline Today" (blog.cloudflare.com, 2019-06-24)';

export function build() {
  const I = new Incident({ seed: 20190624, company: 'Parapet', domain: 'parapet.net' });
  I.person('oncall', 'Ines Carvalho', { login: 'icarvalho' });
  I.person('ic', 'Marcus Feld', { login: 'mfeld' });
  I.person('neteng', 'Oluwaseun Adeyemi', { login: 'oadeyemi' });
  I.person('edge', 'Clara Novak', { login: 'cnovak' });
  I.person('sre2', 'Arjun Pillai', { login: 'apillai' });
  const at = (t) => ms(`2019-06-24T${t}Z`);
  const from = at('07:30:00'), to = at('14:30:00');
  const leak = at('10:30:10'), onset = at('10:31:00'), page = at('10:34:40'), ack = at('10:35:20'), filtered = at('12:38:00'), resolve = at('12:58:30');

  I.changeEvent({ at: at('09:52:00'), summary: 'Anycast: enabled new PoP yyz02 (announces 198.18.0.0/20, 198.18.16.0/20 via 2 transits)', integration: 'netops-automation', services: ['edge-network'], custom_details: { pop: 'yyz02', action: 'enable', prefixes: ['198.18.0.0/20', '198.18.16.0/20'] } });
  I.commit('parapet/edge-proxy', { message: 'edge-proxy: HTTP/2 prioritisation on by default', author: 'edge', at: at('08:00:00'), files: [{ filename: 'conf/defaults.toml', patch: '@@ -12,1 +12,1 @@\n-h2_prioritization = false\n+h2_prioritization = true' }] });
  I.deploy('parapet/edge-proxy', { env: 'edge-global', ref: 'ep-2019.06.24.1', description: 'edge-proxy 2019.06.24.1', createdAt: at('10:02:00'), finishedAt: at('10:21:33'), creator: 'cnovak' });

  const loss = (t) => (t < onset ? 0 : t < filtered ? 1 : Math.max(0, 1 - (t - filtered) / (8 * MIN)));
  I.series({ metric: 'edge.ingress.gbps', expression: 'sum:edge.ingress.gbps{*}', scope: '*', interval: 30, from, to, unit: 'gigabit', fn: (t) => I.noise(2400, 0.02) * (1 - 0.6 * loss(t)) });
  I.series({ metric: 'synthetics.http.failures', expression: 'sum:synthetics.http.failures{*}.as_count()', scope: '*', interval: 30, from, to, unit: 'check', fn: (t) => I.noise(3, 0.5) + loss(t) * I.noise(640, 0.08) });
  I.ddEvent({ at: at('10:21:33'), title: 'edge-proxy 2019.06.24.1 deployed', source_type_name: 'deploy', tags: ['service:edge-proxy'] });
  I.ddEvent({ at: leak, title: 'BGP monitor: more-specific of 198.18.0.0/20 seen', text: '198.18.0.0/21 and 198.18.8.0/21 observed from 41 collectors, AS path 3356 64602 64871 64500. AS64500 does not originate these /21s.', alert_type: 'error', source_type_name: 'bgp-monitor', tags: ['prefix:198.18.0.0/20'] });

  I.logsBetween(leak, filtered, 50, 'bgp-monitor', 'warn', ['collector-ams', 'collector-sjc', 'collector-sin'], () => `new more-specific ${I.pick(['198.18.0.0/21', '198.18.8.0/21', '198.18.16.0/21', '198.18.24.0/21'])} path ${I.pick(['174', '1299', '3356', '6939'])} 64602 64871 64500 (expected origin path ends 64500 via 64510/64520 only)`);
  I.logsBetween(onset, filtered, 80, 'synthetics', 'error', ['probe-nyc', 'probe-fra', 'probe-gru', 'probe-syd'], () => `GET https://www.parapet.net/health timeout after 10s; traceroute last hop ${I.pick(['ae-7.r01.pit', 'xe-0-0-2.bgr1', 'ge-1-1.core1'])}.as64871.example (loss 100%)`);
  I.logsBetween(from, to, 50, 'edge-proxy', 'info', ['edge-yyz02-14', 'edge-fra01-03'], () => `GET / 200 ${I.int(5, 60)}ms`);
  I.log(at('09:40:00'), 'netops-automation', 'info', 'netauto-1', `push yyz02 router config via https://netauto:${I.secret('Np4r-auto-Xq19sKd')}@routers.parapet.net/api`);

  I.say(at('10:36:00'), 'oncall', 'ack. synthetic checks failing from many regions, ingress down 60%');
  const th = I.say(at('10:36:40'), 'edge', 'edge-proxy 2019.06.24.1 went global 10:21, h2 prioritisation. roll back?');
  I.say(at('10:38:00'), 'oncall', 'the failing probes never reach us: traceroutes die inside AS64871, and our edge sees less traffic, not more errors', { thread: th });
  I.say(at('10:39:10'), 'sre2', 'yyz02 was enabled 09:52. could the new PoP announcements be it?');
  I.say(at('10:42:30'), 'neteng', 'no. collectors see /21s inside our /20s with path ... 64602 64871 64500. we never announce /21s, yyz02 announces the /20s and was fine for 40 min. 64871 is a small customer of 64602 leaking more-specifics (looks like a BGP optimizer); 64602 is accepting and propagating them. more-specifics win everywhere');
  I.say(at('10:45:00'), 'ic', 'IC. neteng: contact AS64602 NOC and AS64871. we cannot override more-specifics from here');
  I.say(at('12:40:00'), 'neteng', '64602 put a filter on the 64871 session at 12:38, the /21s are withdrawn, probes recovering');
  I.say(at('12:58:00'), 'ic', 'all probes green. resolving. follow-ups: RPKI ROAs with max-length, ask transits for IRR/RPKI filtering of customers');

  return finish(I, { page, ack, resolve, monitor: 'synthetic HTTP failures > 5% (global)', service: 'edge-network', number: 19624, oncall: 'oncall', ic: 'ic',
    notes: [[at('10:50:00'), 'Route leak: AS64871 leaking more-specifics of our prefixes via AS64602. Waiting on the transit to filter.']],
    channel: { id: 'C0PRPTLEAK', name: 'inc-edge' }, family: 'infra-no-change', trigger: null,
    metric: 'synthetics.http.failures', onset, terms: ['route leak', 'more-specific', 'AS64871', 'BGP', 'transit'] });
}
