// After the is-promise 2.2.0 release, 2020-04-25: a patch-level release of a tiny, ubiquitous npm
// package added an "exports" map that some Node versions could not resolve with require(). Any
// service whose lock file picked it up failed at boot. Here the bot's weekly lock-file maintenance
// bumped it transitively, the release restarted every dyno, and none came back.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'dependency-exports-bump';
export const source = 'the is-promise 2.2.0 release of 2020-04-25: the maintainer\'s post-mortem in the then/is-promise repository and the breakage reports filed against create-react-app and angular-cli that day';

export function build() {
  const I = new Incident({ seed: 200425, company: 'Tallyho', domain: 'tallyho.shop' });
  I.person('oncall', 'Dylan Murphy', { login: 'dmurphy' });
  I.person('ic', 'Fatima Zahra', { login: 'fzahra' });
  I.person('dev', 'Lukas Berger', { login: 'lberger' });
  I.person('search', 'Anjali Nair', { login: 'anair' });

  const from = ms('2020-04-25T18:00:00Z');
  const to = ms('2020-04-25T22:00:00Z');
  const release = ms('2020-04-25T19:52:40Z');
  const onset = ms('2020-04-25T19:53:20Z');
  const page = ms('2020-04-25T19:55:31Z');
  const ack = ms('2020-04-25T19:56:10Z');
  const rollback = ms('2020-04-25T20:09:12Z');
  const resolve = ms('2020-04-25T20:21:47Z');

  const CA = 'tallyho/checkout-api';
  I.commit(CA, { message: 'Cart: cap quantity per line at 99', author: 'dev', at: ms('2020-04-24T11:00:00Z'), files: [
    { filename: 'src/cart/validate.js', patch: '@@ -14,6 +14,9 @@ function validateLine(line) {\n   if (!Number.isInteger(line.qty) || line.qty < 1) throw new CartError(\'qty\');\n+  if (line.qty > 99) throw new CartError(\'qty_max\');' },
  ] });
  I.deploy(CA, { env: 'production', ref: 'v411', description: 'Release v411', createdAt: ms('2020-04-24T13:00:00Z'), finishedAt: ms('2020-04-24T13:04:52Z') });
  const good = I.repo(CA).head;
  const culprit = I.commit(CA, { message: 'chore(deps): lock file maintenance', at: ms('2020-04-25T19:30:00Z'), files: [
    { filename: 'package-lock.json', patch: '@@ -2811,9 +2811,9 @@\n     "is-promise": {\n-      "version": "2.1.0",\n-      "resolved": "https://registry.npmjs.org/is-promise/-/is-promise-2.1.0.tgz",\n-      "integrity": "sha1-eaKp7OO6QqLZ0YCHIt3MHxl8Ja8="\n+      "version": "2.2.0",\n+      "resolved": "https://registry.npmjs.org/is-promise/-/is-promise-2.2.0.tgz",\n+      "integrity": "sha512-3oyC+DmRRXTyo1ggrqz4ZO6s1KvPnUv2xDdmwCuCmSIvXf64ZByqq9nIY1L3SXjbg2mPQtl6fwJ7Xh0wDM2A3g=="\n     },\n@@ -3390,9 +3390,9 @@\n     "@types/node": {\n-      "version": "13.13.1",\n+      "version": "13.13.2",' },
  ] });
  const rel = I.deploy(CA, { env: 'production', ref: 'v412', description: 'Release v412 (auto-deploy from main)', createdAt: ms('2020-04-25T19:49:00Z'), finishedAt: release });
  I.deploy(CA, { env: 'production', ref: 'v413', description: 'Rollback to v411', creator: 'lberger', createdAt: ms('2020-04-25T20:07:40Z'), finishedAt: rollback, sha: good, commits: [] });
  const pin = I.commit(CA, { message: 'Pin is-promise to 2.1.0 (2.2.0 breaks require() on Node 12.16)', author: 'dev', at: ms('2020-04-25T20:40:00Z'), files: [
    { filename: 'package.json', patch: '@@ -40,5 +40,8 @@\n   "engines": { "node": "12.16.x" },\n+  "overrides": {\n+    "is-promise": "2.1.0"\n+  },' },
  ] });
  void pin;

  // ---- innocent: the search indexer scaled right after the release, a web deploy earlier
  I.commit('tallyho/storefront', { message: 'PDP: lazy-load review images', author: 'search', at: ms('2020-04-25T16:00:00Z'), files: [
    { filename: 'src/pdp/Reviews.jsx', patch: '@@ -22,7 +22,7 @@ export function ReviewImage({ src }) {\n-  return <img src={src} alt="" />;\n+  return <img src={src} alt="" loading="lazy" />;' },
  ] });
  const sfDeploy = I.deploy('tallyho/storefront', { env: 'production', ref: 'v2291', description: 'Release v2291', createdAt: ms('2020-04-25T19:20:00Z'), finishedAt: ms('2020-04-25T19:24:31Z') });
  I.changeEvent({ at: ms('2020-04-25T19:53:05Z'), summary: 'search-indexer: formation worker scaled 4 -> 6 (autoscaler)', integration: 'platform-api', services: ['search-indexer'], custom_details: { app: 'search-indexer', process: 'worker', quantity: { from: 4, to: 6 } } });

  // ---- Datadog
  const down = (t) => t >= onset && t < rollback + 40 * SEC;
  I.series({ metric: 'checkout_api.router.errors', expression: 'sum:checkout_api.router.errors{app:checkout-api}.as_count()', scope: 'app:checkout-api', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(15, 0.4) + (down(t) ? I.noise(9800, 0.06) : 0) });
  I.series({ metric: 'checkout_api.dynos.up', expression: 'sum:checkout_api.dynos.up{app:checkout-api}', scope: 'app:checkout-api', interval: 20, from, to, unit: 'dyno', fn: (t) => (t < release - 30 * SEC ? 12 : down(t) || t < onset ? 0 : 12) });
  I.ddEvent({ at: sfDeploy.finishedAt, title: 'Deployed storefront v2291', source_type_name: 'deploy', tags: ['service:storefront'] });
  I.ddEvent({ at: ms('2020-04-25T19:55:20Z'), title: '[P1] Triggered: checkout-api H10 errors', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:checkout-api'] });

  // ---- logs
  for (let d = 1; d <= 4; d++) {
    const t0 = release - 25 * SEC + d * 3 * SEC;
    I.log(t0, 'checkout-api', 'info', `web.${d}`, 'Starting process with command `node src/server.js` (node v12.16.1)');
    I.log(t0 + 1500, 'checkout-api', 'error', `web.${d}`, `internal/modules/cjs/loader.js:491\n  throw new ERR_PACKAGE_PATH_NOT_EXPORTED(basePath, mappingKey);\n  ^\n\nError [ERR_PACKAGE_PATH_NOT_EXPORTED]: No "exports" main resolved in /app/node_modules/is-promise/package.json\n    at resolveExports (internal/modules/cjs/loader.js:491:11)\n    at Function.Module._resolveFilename (internal/modules/cjs/loader.js:780:31)\n    at Module.require (internal/modules/cjs/loader.js:1019:19)\n    at Object.<anonymous> (/app/node_modules/run-async/index.js:3:17)\n    at Object.<anonymous> (/app/src/jobs/queue.js:4:18)\n    at Object.<anonymous> (/app/src/server.js:12:1) {\n  code: 'ERR_PACKAGE_PATH_NOT_EXPORTED'\n}`);
    I.log(t0 + 2200, 'platform', 'error', `web.${d}`, 'State changed from starting to crashed');
  }
  I.logsBetween(onset, rollback + 30 * SEC, 160, 'router', 'error', ['router'], () => `at=error code=H10 desc="App crashed" method=${I.pick(['GET', 'POST'])} path="${I.pick(['/api/cart', '/api/checkout', '/api/payment-intents'])}" host=api.tallyho.shop dyno= connect= service= status=503`);
  I.logsBetween(from, to, 150, 'checkout-api', 'info', ['web.1', 'web.2', 'web.3'], () => `${I.pick(['GET /api/cart', 'POST /api/checkout', 'POST /api/payment-intents'])} ${I.pick([200, 200, 201])} ${I.int(20, 300)}ms`);
  I.log(ms('2020-04-25T18:40:00Z'), 'checkout-api', 'warn', 'web.5', `payment provider retry with key ${I.secret('sk_live_51GqTallyhoR3aLk3yV4lu3xYz')} (timeout 5000ms)`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] checkout-api H10 errors', 'checkout-api');
  I.pdNotify(page + 400, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2020-04-25T20:05:00Z'), 'oncall', 'All dynos crash at boot since v412: ERR_PACKAGE_PATH_NOT_EXPORTED for is-promise (lock file maintenance bumped 2.1.0 -> 2.2.0). Rolling back to v411.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2020-04-25T${t}Z`);
  I.bot(at('19:55:33'), 'PagerDuty', ':rotating_light: *Triggered* #6120 [P1] checkout-api H10 errors');
  I.say(at('19:56:40'), 'oncall', 'ack. checkout down, every dyno crashed. H10 App crashed');
  const th = I.say(at('19:57:20'), 'search', 'search-indexer autoscaled at 19:53, related? it shares the db');
  I.say(at('19:58:00'), 'oncall', 'dynos crash before they open a db connection, it is a module load error', { thread: th });
  I.say(at('19:59:10'), 'ic', 'IC. did npm have an outage? registry was flaky last month');
  I.say(at('20:00:30'), 'dev', 'the install worked, build is green. the crash is at require time: No "exports" main resolved in is-promise/package.json');
  I.say(at('20:02:00'), 'dev', 'v412 is only the bot lock file maintenance: is-promise 2.1.0 -> 2.2.0. 2.2.0 was published today and adds an "exports" field; node 12.16 cannot resolve it for require()');
  I.say(at('20:03:10'), 'ic', 'roll back to v411 now, pin later');
  I.say(at('20:09:40'), 'dev', 'v413 (= v411) released 20:09, dynos up');
  I.say(at('20:21:00'), 'ic', 'resolving. follow-ups: pin is-promise, lock file maintenance goes through staging boot, move to node 12.17+');
  I.bot(at('20:21:50'), 'PagerDuty', ':white_check_mark: *Resolved* #6120 [P1] checkout-api H10 errors');

  const incident = { id: 'Q6TH06120', source: 'pagerduty', title: '[P1] checkout-api H10 errors', service: 'checkout-api', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 6120, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://tallyho.pagerduty.com/incidents/Q6TH06120' };
  const bundle = I.bundle({ incident, channel: { id: 'C6CHECKOUT', name: 'checkout-oncall' } });
  const expected = {
    family: 'dependency-bump',
    trigger: { repo: CA, sha: culprit, deployment_id: rel.id },
    spike_onset: { metric: 'checkout_api.router.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['is-promise', '2.2.0', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'exports', 'lock file'],
    timeline_must_include: [
      { at: iso(release), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
