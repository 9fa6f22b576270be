// After Coinbase, Super Bowl LVI (2022-02-13 US time): a 60-second TV ad showing only a bouncing QR
// code sent more than 20 million visits to the landing page within a minute, several times the
// previous peak; sign-up and onboarding back ends saturated and were rate-limited until traffic fell.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'superbowl-qr-traffic-surge';
export const source = 'Coinbase, "Behind the scenes of the Coinbase Super Bowl ad" / engineering post on the traffic surge (blog.coinbase.com, 2022-02) and the company\'s status updates during the game';

export function build() {
  const I = new Incident({ seed: 20220213, company: 'Ledgerlane', domain: 'ledgerlane.com', pdSubdomain: 'ledgerlane' });
  I.person('oncall', 'Jordan Whitfield', { login: 'jwhitfield' });
  I.person('ic', 'Amara Okafor', { login: 'aokafor' });
  I.person('onb', 'Lucas Ferreira', { login: 'lferreira' });
  I.person('edge', 'Mei Lin Zhou', { login: 'mzhou' });
  I.person('mkt', 'Sophie Clarke', { login: 'sclarke' });
  const at = (t) => ms(`2022-02-14T${t}Z`);
  const from = at('00:00:00'), to = at('03:30:00');
  const ad = at('01:41:30'), onset = at('01:41:40'), page = at('01:43:05'), ack = at('01:43:50'), resolve = at('02:38:20');

  I.commit('ledgerlane/onboarding', { message: 'Sign-up: send verification email asynchronously', author: 'onb', at: at('00:05:00'), files: [{ filename: 'app/signup/verify.rb', patch: '@@ -20,3 +20,3 @@\n-    VerificationMailer.deliver_now(user)\n+    VerificationMailer.deliver_later(user)' }] });
  I.deploy('ledgerlane/onboarding', { env: 'production', ref: 'onb-1871', description: 'onboarding onb-1871', createdAt: at('00:22:00'), finishedAt: at('00:31:07'), creator: 'lferreira' });
  I.changeEvent({ at: at('01:35:10'), summary: 'CDN: landing page cache TTL 60s -> 300s', integration: 'edge-console', services: ['landing'], custom_details: { path: '/', ttl: { from: 60, to: 300 } } });

  const load = (t) => (t < onset ? 1 : t < at('01:44:00') ? 20 : t < at('02:05:00') ? 20 - 14 * (t - at('01:44:00')) / (21 * MIN) : Math.max(1, 6 - 5 * (t - at('02:05:00')) / (25 * MIN)));
  I.series({ metric: 'edge.requests', expression: 'sum:edge.requests{service:landing}.as_count()', scope: 'service:landing', interval: 10, from, to, unit: 'request', fn: (t) => I.noise(38000, 0.06) * load(t) });
  I.series({ metric: 'onboarding.signup.errors', expression: 'sum:onboarding.signup.errors{*}.as_count()', scope: '*', interval: 10, from, to, unit: 'error', fn: (t) => I.noise(4, 0.5) + (t < onset + 20 * SEC ? 0 : Math.max(0, load(t) - 3) * I.noise(300, 0.1)) });
  I.ddEvent({ at: at('01:40:55'), title: 'Marketing: TV spot scheduled (Q4, slot 3)', source_type_name: 'calendar', tags: ['team:marketing'] });
  I.ddEvent({ at: page - 15 * SEC, title: '[P1] Triggered: onboarding sign-up errors > 5%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:onboarding'] });

  const hosts = ['onb-web-12', 'onb-web-31', 'onb-web-47'];
  I.logsBetween(onset + 20 * SEC, at('02:20:00'), 110, 'onboarding', 'error', hosts, () => I.pick([
    'POST /signup 503 upstream connect error: pool exhausted (kyc-gateway, 400/400 in use)',
    'rate limiter: shed request class=signup bucket=global tokens=0',
    'POST /signup 504 after 15000ms (users-db primary wait)']));
  I.logsBetween(from, to, 60, 'landing', 'info', ['edge-ams-3', 'edge-iad-7'], () => `GET /?utm_source=${I.pick(['tv', 'qr', 'organic'])} 200 cache=${I.pick(['HIT', 'MISS'])}`);
  I.log(ad, 'landing', 'info', 'edge-iad-7', 'GET /?utm_source=qr&utm_campaign=bigGame 200 cache=MISS');
  I.log(at('00:50:00'), 'onboarding', 'info', hosts[0], `kyc-gateway client: Authorization: Bearer ${I.secret('kyc_sk_live_LL2022bowl9QxV')}`);

  I.say(at('01:44:10'), 'oncall', 'ack. sign-up errors jumped, edge requests 20x in one minute');
  const th = I.say(at('01:44:50'), 'onb', 'onb-1871 shipped at 00:31, async verification mail. revert?');
  I.say(at('01:45:40'), 'oncall', 'it ran an hour clean. the errors are pool exhaustion against kyc-gateway and the users db under 20x sign-ups', { thread: th });
  I.say(at('01:45:55'), 'edge', 'I raised the landing page TTL at 01:35, that should only help. edge is serving 97% from cache');
  I.say(at('01:46:30'), 'mkt', 'the QR code ad aired at 01:41, it was the whole 60 seconds of the spot');
  I.say(at('01:48:00'), 'ic', 'IC. this is the ad. turn on the waiting room for /signup, raise the rate-limit bucket only as far as the users db allows, scale onboarding out');
  I.say(at('02:10:00'), 'onb', 'waiting room on since 01:52, onboarding at 3x instances, errors falling as the surge fades');
  I.say(at('02:37:00'), 'ic', 'traffic back near normal, sign-up errors at baseline. resolving. follow-up: load test sign-up at 25x before the next campaign');

  return finish(I, { page, ack, resolve, monitor: '[P1] onboarding sign-up errors > 5%', service: 'onboarding', number: 7402, opsgenie: true, ogId: '3c1f8e2a-7b64-4d09-9a15-e2b0c6d47f13', oncall: 'oncall', ic: 'ic',
    notes: [[at('01:50:00'), 'TV ad (QR code) drove ~20x traffic to landing and sign-up within a minute. Shedding load, scaling out.']],
    channel: { id: 'C0LLBOWL1', name: 'inc-onboarding' }, family: 'traffic-surge', trigger: null,
    metric: 'edge.requests', scope: 'service:landing', onset, terms: ['QR code', 'ad', 'traffic', '20x', 'sign-up'] });
}
