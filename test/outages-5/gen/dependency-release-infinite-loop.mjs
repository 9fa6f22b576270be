// After the colors.js 1.4.1 release of 2022-01-07/08: the maintainer of a popular terminal-colour package
// published versions whose entry point loops forever printing garbled text. Anything that resolved the
// new version (here a queue worker whose lock-file maintenance picked it up through its logging library)
// hung at start-up at 100% CPU and never consumed a message; pinning the previous version fixed it.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'dependency-release-infinite-loop';
export const source = 'colors.js 1.4.1 / 1.4.44-liberty-2 releases of 2022-01-07/08 (GitHub issue Marak/colors.js#285, "Infinite loop in 1.4.44-liberty-2 / 1.4.1"; aws-cdk issue #18322; BleepingComputer, 2022-01-09)';

export function build() {
  const I = new Incident({ seed: 20220110, company: 'Lanternly', domain: 'lanternly.com' });
  I.person('oncall', 'Zainab Hussain', { login: 'zhussain' });
  I.person('ic', 'Patrick O\'Neill', { login: 'poneill', slack: 'patrick.oneill', email: 'patrick.oneill@lanternly.com' });
  I.person('bill', 'Sven Larsen', { login: 'slarsen' });
  I.person('bill2', 'Ana Popescu', { login: 'apopescu' });
  I.person('growth', 'Diego Fernández', { login: 'dfernandez' });
  const at = (t) => ms(`2022-01-10T${t}Z`);
  const from = at('06:00:00'), to = at('12:00:00');
  const onset = at('09:13:30'), page = at('09:24:40'), ack = at('09:25:30'), fixDeploy = at('10:04:52'), resolve = at('10:47:15');

  const BW = 'lanternly/billing-worker';
  I.commit(BW, { message: 'Dunning: retry failed cards on day 3 and 7', author: 'bill2', at: ms('2022-01-05T11:00:00Z'), files: [{ filename: 'src/dunning.ts', patch: '@@ -14,1 +14,1 @@\n-const RETRY_DAYS = [3];\n+const RETRY_DAYS = [3, 7];' }] });
  I.deploy(BW, { env: 'production', ref: 'bw-2206', description: 'billing-worker 2206', createdAt: ms('2022-01-05T15:00:00Z'), finishedAt: ms('2022-01-05T15:09:40Z') });
  const bad = I.commit(BW, { message: 'chore(deps): lock file maintenance', at: ms('2022-01-09T03:12:00Z'), files: [{ filename: 'package-lock.json', patch: '@@ -1204,9 +1204,9 @@\n     "node_modules/colors": {\n-      "version": "1.4.0",\n-      "resolved": "https://registry.npmjs.org/colors/-/colors-1.4.0.tgz",\n-      "integrity": "sha512-a+UqTh4kgZg/SlGvfbzDHpgRu7AAQOmmqRHJnxhRZICKFUT91brVhNNt58CMWU9PsBbv3PDCZUHbVxuDiH2mtA==",\n+      "version": "1.4.1",\n+      "resolved": "https://registry.npmjs.org/colors/-/colors-1.4.1.tgz",\n+      "integrity": "sha512-3Bs2r7bNPMqrqTLb/hVHfIzTvDLbvJQBEgP3Nm0ZXvWQnJz0XFS/KJwqH+rMq8YYxWrzV5SbsxYGGIzWWGjGoQ==",\n       "engines": {\n         "node": ">=0.1.90"\n       }\n@@ -2310,7 +2310,7 @@\n     "node_modules/pg-pool": {\n-      "version": "3.4.1",\n+      "version": "3.5.1",' }] });
  I.commit(BW, { message: 'Invoices: round VAT per line instead of per invoice', author: 'bill', at: ms('2022-01-10T08:20:00Z'), files: [{ filename: 'src/invoice/vat.ts', patch: '@@ -22,3 +22,3 @@\n-  const vat = round(sum(lines.map((l) => l.net)) * rate);\n+  const vat = sum(lines.map((l) => round(l.net * rate)));' }] });
  const trig = I.deploy(BW, { env: 'production', ref: 'bw-2207', description: 'billing-worker 2207', createdAt: at('09:02:00'), finishedAt: at('09:12:21'), creator: 'slarsen' });
  I.repo(BW).deployment_commits[String(trig.id)] = I.repo(BW).commits.slice(-2).map((c) => c.sha);
  I.commit('lanternly/web-app', { message: 'Pricing page: annual toggle default on', author: 'growth', at: at('07:30:00'), files: [{ filename: 'src/pages/pricing.tsx', patch: '@@ -9,1 +9,1 @@\n-  const [annual, setAnnual] = useState(false);\n+  const [annual, setAnnual] = useState(true);' }] });
  I.deploy('lanternly/web-app', { env: 'production', ref: 'web-5120', description: 'web-app 5120', createdAt: at('08:31:00'), finishedAt: at('08:40:09'), creator: 'dfernandez' });
  I.changeEvent({ at: at('09:12:50'), summary: 'Flag invoice_pdf_v2: rollout 20% -> 50%', integration: 'flagsmith', services: ['billing-worker'], custom_details: { flag: 'invoice_pdf_v2', from: '20%', to: '50%' } });
  I.changeEvent({ at: at('09:33:10'), summary: 'Flag invoice_pdf_v2: rollout 50% -> 20%', integration: 'flagsmith', services: ['billing-worker'], custom_details: { flag: 'invoice_pdf_v2', from: '50%', to: '20%' } });
  const fix = I.commit(BW, { message: 'deps: pin colors to 1.4.0 (overrides) - 1.4.1 loops forever on require', author: 'bill2', at: at('09:50:00'), files: [{ filename: 'package.json', patch: '@@ -40,3 +40,6 @@\n   "devDependencies": {\n   },\n+  "overrides": {\n+    "colors": "1.4.0"\n+  },' }, { filename: 'package-lock.json', patch: '@@ -1205,3 +1205,3 @@\n-      "version": "1.4.1",\n+      "version": "1.4.0",' }] });
  I.deploy(BW, { env: 'production', ref: 'bw-2208', description: 'billing-worker 2208', createdAt: at('09:55:00'), finishedAt: fixDeploy, creator: 'apopescu', commits: [fix] });

  const stuck = (t) => t >= onset && t < fixDeploy;
  let depth = 0;
  I.series({ metric: 'billing.queue.depth', expression: 'max:billing.queue.depth{queue:invoices}', scope: 'queue:invoices', interval: 30, from, to, unit: 'message', fn: (t) => { if (stuck(t)) depth += I.noise(420, 0.1); else if (depth > 0) depth = Math.max(0, depth - 2600); return I.noise(35, 0.4) + depth; } });
  I.series({ metric: 'container.cpu.usage', expression: 'avg:container.cpu.usage{service:billing-worker}', scope: 'service:billing-worker', interval: 30, from, to, unit: 'percent', fn: (t) => (stuck(t) ? I.noise(99, 0.01) : I.noise(22, 0.2)) });
  I.ddEvent({ at: at('09:12:21'), title: 'billing-worker 2207 deployed', source_type_name: 'deploy', tags: ['service:billing-worker'] });
  I.ddEvent({ at: at('08:40:09'), title: 'web-app 5120 deployed', source_type_name: 'deploy', tags: ['service:web-app'] });

  const pods = ['billing-worker-7d9f-2xk', 'billing-worker-7d9f-9qa', 'billing-worker-7d9f-lm3'];
  const zalgo = 'L̴̢I̷B̸̛E̵R̶T̵Y̴ ̷L̶I̵B̸E̶R̴T̷Y̸ ̵L̶I̴B̸E̷R̴T̵Y̶';
  I.logsBetween(onset - 60 * SEC, fixDeploy, 90, 'billing-worker', 'info', pods, () => `${zalgo} ${zalgo}`);
  I.logsBetween(onset, fixDeploy, 12, 'billing-worker', 'warn', pods, () => `node --report-on-signal SIGUSR2: main thread busy ${I.int(200, 2400)}s\n    at Object.<anonymous> (/app/node_modules/colors/lib/index.js:18:3)\n    at Module._compile (node:internal/modules/cjs/loader:1101:14)\n    at require (node:internal/modules/cjs/helpers:102:18)\n    at Object.<anonymous> (/app/node_modules/logform/colorize.js:3:16)\n    at Object.<anonymous> (/app/dist/logger.js:2:17)`);
  I.logsBetween(onset, fixDeploy, 20, 'queue-monitor', 'warn', ['qmon-1'], () => `queue invoices: 0 consumers registered (expected 6), depth ${I.int(500, 9000)}`);
  I.logsBetween(from, onset - 2 * MIN, 60, 'billing-worker', 'info', ['billing-worker-6c1b-8pz', 'billing-worker-6c1b-v4d'], () => `invoice ${I.hex(10)} rendered and emailed in ${I.int(300, 1800)}ms`);
  I.logsBetween(fixDeploy + 30 * SEC, to, 60, 'billing-worker', 'info', ['billing-worker-5f2e-a7c', 'billing-worker-5f2e-k2w'], () => `invoice ${I.hex(10)} rendered and emailed in ${I.int(300, 1800)}ms`);
  I.log(at('07:00:00'), 'billing-worker', 'info', 'billing-worker-6c1b-8pz', `stripe client init key=${I.secret('sk_live_51LntrnlyQ8ZxVb2mK4pR7tY0')}`);

  I.say(at('09:26:00'), 'oncall', 'ack. invoice queue growing since ~09:13, nothing being consumed. pods at 100% cpu');
  const th = I.say(at('09:27:00'), 'growth', 'I pushed invoice_pdf_v2 to 50% at 09:12:50. turning it back to 20');
  I.say(at('09:35:30'), 'oncall', 'flag back to 20% at 09:33, queue still climbing', { thread: th });
  I.say(at('09:37:00'), 'bill', 'bw-2207 has my VAT rounding change (head). but the workers never reach invoice code, they never log "consumer started"');
  I.say(at('09:40:00'), 'bill2', 'stdout is just garbled "LIBERTY LIBERTY". diagnostic report: main thread stuck in node_modules/colors/lib/index.js, required by logform at logger start-up. the lock file maintenance commit in 2207 moved colors 1.4.0 -> 1.4.1. 1.4.1 was published over the weekend and loops forever on require (upstream issue says the same)');
  I.say(at('09:44:00'), 'ic', 'IC. pin colors 1.4.0 via overrides and ship, do not roll back the VAT change with it. freeze renovate lock maintenance');
  I.say(at('10:06:00'), 'bill2', 'bw-2208 out 10:04:52, consumers started, queue draining');
  I.say(at('10:47:00'), 'ic', 'queue at baseline, all invoices sent. resolving. follow-ups: lock maintenance PRs get a start-up smoke test, min release age for dependencies');

  return finish(I, { page, ack, resolve, monitor: 'billing invoices queue depth > 2000', service: 'billing-worker', number: 22110, oncall: 'oncall', ic: 'ic',
    notes: [[at('09:45:00'), 'bw-2207 lock maintenance pulled colors 1.4.1 (infinite loop on require); workers hang at start. Pinning 1.4.0.']],
    channel: { id: 'C0LTNBILL22', name: 'inc-billing' }, family: 'dependency-bump', trigger: { repo: BW, sha: bad, deployment_id: trig.id },
    metric: 'billing.queue.depth', scope: 'queue:invoices', onset, deployAt: trig.finishedAt, terms: ['colors', '1.4.1', 'lock file', 'infinite loop', 'bw-2207'] });
}
