// Families 1-6: code deploy, service config, shared config from another repo, feature flag,
// data/policy push over a latent defect, dependency bump.
import { addDecoys, before, culpritDeploy, type Outcome, revertDeploy } from './common.js';
import { codeFault, configFile, type ConfigFormat, configPatch, keyIn, place, trace } from './faults.js';
import { hhmm, HOUR, MIN, type Scene } from './scene.js';
import { camel, identifierParts, kebab, LIB_STEMS, LIB_TAILS, pascal, snake } from './vocab.js';

export function codeDeploy(s: Scene): Outcome {
  const r = s.rng;
  const f = codeFault(s);
  const { deploy, sha } = culpritDeploy(s, s.serviceRepo, f.commit, before(s, 1, 20));
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), f.error);
  if (r.chance(0.6)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`stack traces all end in ${f.fn}`, `errors are all from ${f.file.split('/').pop()}`, `${f.ident} shows up in every error`, `started right after ${deploy.ref} went out`]));
  if (r.chance(0.6)) revertDeploy(s, deploy, r.chance(0.6) ? f.revert : null);
  else s.say(s.recoveryMs + r.int(0, 120) * 1000, s.responder(), r.pick(['hotfix deployed, errors dropping', 'patched the null check, recovering']));
  addDecoys(s, r.int(1, 4), deploy.finishedMs);
  return { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: f.terms, timelineDeploys: [deploy.finishedMs] };
}

interface Knob {
  keys: string[];
  old: [number, number];
  next: [number, number];
  concept: string;
  visible: (v: number, dep: string) => string;
  hidden: (dep: string) => string;
}

const KNOBS: Knob[] = [
  {
    keys: ['max_connections', 'pool.max_size', 'db_pool_size', 'maximumPoolSize', 'pool_max_conns'], old: [50, 200], next: [4, 15], concept: 'connection pool',
    visible: (v) => `DB_CONNECTION_ERROR: pool exhausted (${v}/${v} connections in use)`,
    hidden: () => 'timed out after 5000ms waiting to acquire a connection from the pool',
  },
  {
    keys: ['upstream_timeout_ms', 'http_client.timeout_ms', 'request_timeout_ms', 'readTimeoutMillis'], old: [2000, 10000], next: [80, 400], concept: 'timeout',
    visible: (v, dep) => `upstream ${dep} request timed out after ${v}ms`,
    hidden: (dep) => `context deadline exceeded (Client.Timeout exceeded while awaiting headers) calling ${dep}`,
  },
  {
    keys: ['rate_limit.rps', 'ratelimit_per_second', 'throttle.limit_rps'], old: [500, 3000], next: [10, 60], concept: 'rate limit',
    visible: (v) => `429 Too Many Requests: rate limit of ${v} req/s exceeded`,
    hidden: () => 'request rejected by the rate limiter (bucket empty)',
  },
  {
    keys: ['worker_queue_capacity', 'queue.capacity', 'max_queue_size'], old: [500, 5000], next: [2, 10], concept: 'queue',
    visible: (v) => `work queue full (capacity ${v}), rejecting request`,
    hidden: () => 'rejecting request: queue is full',
  },
];

export function serviceConfig(s: Scene): Outcome {
  const r = s.rng;
  const knob = r.pick(KNOBS);
  const fmt = r.pick(['yaml', 'json', 'properties', 'toml', 'env'] as const);
  const key = r.pick(knob.keys);
  const oldV = r.int(...knob.old);
  const newV = r.int(...knob.next);
  const file = configFile(s, fmt);
  const dep = s.otherService().name;
  const patch = configPatch(fmt, key, oldV, newV, r.chance(0.5) ? [`# ${knob.concept} settings`] : []);
  const commit = { message: r.pick([`Tune ${knob.concept} for ${s.prodEnv}`, `config: adjust ${keyIn(fmt, key)}`, `Lower ${knob.concept} settings to save resources`, 'Config cleanup before the migration']), files: [{ filename: file, patch }] };
  const { deploy, sha } = culpritDeploy(s, s.serviceRepo, commit, before(s, 1, 25));
  const visible = r.chance(0.5);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => (visible ? knob.visible(newV, dep) : knob.hidden(dep)));
  let linked = visible;
  if (r.chance(0.5)) {
    s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`${deploy.ref} changed ${keyIn(fmt, key)} from ${oldV} to ${newV}`, `did anyone touch the ${knob.concept} config? errors look like ${knob.concept} exhaustion`]));
    linked = true;
  }
  if (!linked || r.chance(0.6)) {
    const revert = { message: `Revert ${keyIn(fmt, key)} to ${oldV}`, files: [{ filename: file, patch: configPatch(fmt, key, newV, oldV) }] };
    revertDeploy(s, deploy, revert);
  }
  addDecoys(s, r.int(1, 4), deploy.finishedMs);
  return { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: [keyIn(fmt, key), knob.concept, file], timelineDeploys: [deploy.finishedMs] };
}

export function sharedConfig(s: Scene): Outcome {
  const r = s.rng;
  const repo = `${s.org}/${r.pick(['platform-config', 'edge-rules', 'routing-rules', 'shared-config', 'gateway-config', 'waf-rules', 'traffic-policy'])}`;
  const env = r.pick(['global', 'all', 'edge', 'production', 'prod', 'us-east-1', 'eu-central-1', 'live']);
  const res = r.pick(s.dom.resources);
  const kind = r.int(0, 2);
  let file: string;
  let patch: string;
  let message: string;
  let error: () => string;
  let term: string;
  if (kind === 0) {
    const ruleId = `${kebab(identifierParts(r, s.usedWords))}-${r.int(100, 999)}`;
    file = r.pick([`rules/${ruleId}.yaml`, 'waf/rules.yaml', `edge/rules/${s.service}.yaml`]);
    patch = `@@ -40,3 +40,9 @@\n+- id: ${ruleId}\n+  description: block abusive clients\n+  match:\n+    path_prefix: /v1/${res}\n+    header: x-client-version\n+  action: block`;
    message = r.pick([`Add ${ruleId}`, 'Block abusive clients on the public edge', `rules: new block rule for /v1/${res}`]);
    error = () => r.pick([`403 Forbidden from edge: request blocked by rule ${ruleId} (path=/v1/${res})`, `upstream denied request: rule=${ruleId} status=403 path=/v1/${res}`]);
    term = ruleId;
  } else if (kind === 1) {
    const cluster = `${s.service}-${r.pick(['v2', 'blue', 'pool-b', 'canary-pool', 'east'])}`;
    file = r.pick([`routes/${s.service}.yaml`, 'routing/routes.yaml', `clusters/${s.prodEnv}.yaml`]);
    patch = `@@ -12,4 +12,4 @@\n - match: { prefix: /v1/${res} }\n   route:\n-    cluster: ${s.service}\n+    cluster: ${cluster}`;
    message = r.pick([`Route /v1/${res} to the new cluster`, 'routing: move traffic to the new pool', `Shift ${res} traffic`]);
    error = () => r.pick([`503 no healthy upstream for cluster ${cluster}`, `upstream connect error or disconnect/reset before headers. cluster=${cluster} reset reason: connection failure`]);
    term = cluster;
  } else {
    const key = r.pick(['max_concurrency', 'connection_limit', 'max_inflight']);
    const oldV = r.int(200, 1000);
    const newV = r.int(5, 30);
    file = r.pick([`services/${s.service}.yaml`, `limits/${s.service}.yaml`, 'limits/defaults.yaml']);
    patch = `@@ -4,3 +4,3 @@\n ${s.service}:\n-  ${key}: ${oldV}\n+  ${key}: ${newV}`;
    message = r.pick(['Normalize service limits', `limits: align ${key} across services`, 'Tighten per-service limits']);
    error = () => r.pick([`${key} of ${newV} reached for ${s.service}, shedding request`, `503: ${s.service} over ${key} (${newV})`]);
    term = key;
  }
  const { deploy, sha } = culpritDeploy(s, repo, { message, files: [{ filename: file, patch }] }, before(s, 1, 20), { env, staged: false });
  s.touchRepo(s.serviceRepo);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), error);
  if (r.chance(0.5)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`every error names ${term}`, `${repo.split('/')[1]} pushed at ${hhmm(deploy.finishedMs)}, that's where ${term} comes from`]));
  if (r.chance(0.6)) revertDeploy(s, deploy, { message: `Revert "${message}"`, files: [{ filename: file, patch: patch.split('\n').map((l) => (l.startsWith('+') ? '-' + l.slice(1) : l.startsWith('-') ? '+' + l.slice(1) : l)).join('\n') }] });
  addDecoys(s, r.int(2, 4), deploy.finishedMs);
  return { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: [term, file], timelineDeploys: [deploy.finishedMs] };
}

export function featureFlag(s: Scene): Outcome {
  const r = s.rng;
  const parts = identifierParts(r, s.usedWords);
  s.usedWords.add(parts.join(' '));
  const flag = r.pick([kebab([...parts, 'v2']), snake(['enable', ...parts]), kebab(['new', ...parts])]);
  const pl = place(s, parts);
  const inErrors = r.chance(0.5);
  const headline = r.pick([`TypeError: ${camel(parts)} is not a function`, `unexpected state in ${camel(parts)} flow`, `${pascal(parts)}Error: missing ${r.pick(['rate card', 'mapping', 'template'])} for ${r.pick(s.dom.nouns)}`]);
  const error = () => trace(s, inErrors ? `${headline} [flag=${flag}]` : headline, [pl.frame(r.int(30, 200))]);
  const flipAt = before(s, 1, 15);
  let trigger: Outcome['trigger'];
  const timelineDeploys: number[] = [];
  const viaRepo = r.chance(0.5);
  let disable: () => void;
  if (viaRepo) {
    const repo = `${s.org}/${r.pick(['feature-flags', 'flags', 'flag-config', 'toggles'])}`;
    const file = r.pick([`flags/${s.service}.yaml`, 'flags.json', `${s.service}/flags.yaml`]);
    const rollout = r.chance(0.5);
    const patch = rollout ? `@@ -8,3 +8,3 @@\n ${flag}:\n-  rollout_percent: 0\n+  rollout_percent: 100` : `@@ -8,3 +8,3 @@\n ${flag}:\n-  enabled: false\n+  enabled: true`;
    const { deploy, sha } = culpritDeploy(s, repo, { message: r.pick([`Enable ${flag} in ${s.prodEnv}`, `Roll out ${flag}`, 'flags: launch day']), files: [{ filename: file, patch }] }, flipAt, { staged: false, extra: r.pick([0, 0, 1]) });
    trigger = { repo, sha, deployment_id: deploy.id };
    timelineDeploys.push(deploy.finishedMs);
    disable = () => revertDeploy(s, deploy, { message: `Disable ${flag}`, files: [{ filename: file, patch: patch.replace(/^-(.*)$/m, '+$1').replace(/^\+(.*(100|true))$/m, '-$1') }] });
  } else {
    const tool = r.pick(['LaunchDarkly', 'Split', 'Flagsmith', 'Unleash', 'ConfigCat', 'Statsig']);
    const actor = s.person();
    const id = s.changeEvent({
      ms: flipAt, integration: tool,
      summary: r.pick([`Flag "${flag}" turned ON in ${s.prodEnv}`, `${flag}: rollout 0% -> 100% (${s.prodEnv})`, `Updated targeting for ${flag}`]),
      details: { flag_key: flag, environment: s.prodEnv, previous: r.pick([false, '0%']), current: r.pick([true, '100%']), actor: actor.email },
      links: [{ href: `https://app.${tool.toLowerCase()}.example/flags/${flag}`, text: `${flag} in ${tool}` }],
    });
    trigger = { kind: 'change_event', change_event_id: id };
    disable = () => {
      s.changeEvent({ ms: s.recoveryMs - r.int(20, 120) * 1000, integration: tool, summary: `Flag "${flag}" turned OFF in ${s.prodEnv}`, details: { flag_key: flag, environment: s.prodEnv, previous: true, current: false } });
      s.say(s.recoveryMs - r.int(150, 300) * 1000, s.responder(), `turning ${flag} off`);
      s.say(s.recoveryMs + r.int(60, 240) * 1000, s.responder(), 'errors dropped as soon as the flag went off');
    };
  }
  s.touchRepo(s.serviceRepo);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), error);
  const mitigated = !inErrors || r.chance(0.6);
  if (mitigated) disable();
  if (r.chance(0.5)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`${flag} went to 100% at ${hhmm(flipAt)}`, `errors are all in ${pl.fn}, that's the ${flag} code path`]));
  addDecoys(s, r.int(1, 4), flipAt);
  return { trigger, terms: [flag, pl.fn], timelineDeploys };
}

export function latentDefect(s: Scene): Outcome {
  const r = s.rng;
  const parts = identifierParts(r, s.usedWords);
  s.usedWords.add(parts.join(' '));
  const pl = place(s, [...parts, 'evaluator']);
  const entry = `${kebab(identifierParts(r, s.usedWords))}-${r.int(10, 99)}`;
  const kind = r.int(0, 2);
  const dataset = r.pick(['policies', 'pricing rules', 'content rules', 'risk rules', 'catalog mappings']);
  const headline = [
    `TypeError: Cannot read properties of undefined (reading 'operator') while evaluating ${entry}`,
    `IndexError: list index out of range evaluating rule ${entry}`,
    `KeyError: '${entry}' not in region table`,
  ][kind]!;
  const codePatch = [
    `@@ -1,3 +1,12 @@\n+export function ${pl.fn}(rule) {\n+  const first = rule.conditions[0];\n+  return OPERATORS[first.operator](first.value);\n+}`,
    `@@ -1,3 +1,10 @@\n+def ${pl.fn}(rule):\n+    head = rule["conditions"][0]\n+    return OPERATORS[head["op"]](head["value"])`,
    `@@ -1,3 +1,9 @@\n+func ${pl.fn}(rule Rule) Result {\n+\trate := regionTable[rule.Region]\n+\treturn apply(rate)\n+}`,
  ][kind]!;
  const older = culpritDeploy(s, s.serviceRepo, { message: `Evaluate ${parts.join(' ')} ${dataset} server-side`, files: [{ filename: pl.file, patch: codePatch }] }, s.t0 - r.int(20, 70) * HOUR - r.int(0, 59) * MIN, { staged: false });
  const pushAt = before(s, 1, 15);
  const dataRepo = `${s.org}/${r.pick(['policies', 'pricing-data', 'content', 'catalog-data', 'rules-data', 'risk-rules'])}`;
  const dataFile = `${r.pick(['policies', 'rules', 'data'])}/${kebab(parts)}.${r.pick(['json', 'yaml'])}`;
  const dataPatch = kind === 2 ? `@@ -20,3 +20,7 @@\n+  - id: ${entry}\n+    region: ${entry}\n+    enabled: true` : `@@ -20,3 +20,7 @@\n+  - id: ${entry}\n+    conditions: []\n+    action: allow`;
  let trigger: Outcome['trigger'];
  const timelineDeploys: number[] = [older.deploy.finishedMs];
  let undo: () => void;
  if (r.chance(0.6)) {
    const { deploy, sha } = culpritDeploy(s, dataRepo, { message: r.pick([`Add ${entry}`, `${dataset}: weekly publish`, `Publish ${dataset} for the campaign`]), files: [{ filename: dataFile, patch: dataPatch }] }, pushAt, { staged: false, env: r.pick([s.prodEnv, 'global', 'all', 'live']) });
    trigger = { repo: dataRepo, sha, deployment_id: deploy.id };
    timelineDeploys.push(deploy.finishedMs);
    undo = () => revertDeploy(s, deploy, { message: `Remove ${entry}`, files: [{ filename: dataFile, patch: dataPatch.replace(/^\+/gm, '-') }] });
  } else {
    const tool = r.pick(['policy-publisher', 'Contentful', 'Airflow', 'S3 sync', 'data-pipeline']);
    const v = r.int(10, 400);
    const id = s.changeEvent({ ms: pushAt, integration: tool, summary: `Published ${dataset} v${v} (${r.int(40, 900)} entries, added ${entry})`, details: { dataset, version: v, added: [entry] } });
    trigger = { kind: 'change_event', change_event_id: id };
    undo = () => {
      s.changeEvent({ ms: s.recoveryMs - r.int(20, 120) * 1000, integration: tool, summary: `Rolled back ${dataset} to v${v - 1}`, details: { dataset, version: v - 1 } });
      s.say(s.recoveryMs + r.int(60, 240) * 1000, s.responder(), `recovered after rolling ${dataset} back to v${v - 1}`);
    };
  }
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => trace(s, headline, [pl.frame(r.int(2, 12))]));
  if (r.chance(0.6)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`every failure is on ${entry}, which was added in the ${dataset} publish at ${hhmm(pushAt)}`, `${pl.fn} assumes ${kind === 2 ? 'every region is in the table' : 'at least one condition'}; that code shipped days ago, it only broke now`]));
  if (r.chance(0.7)) undo();
  addDecoys(s, r.int(1, 4), pushAt);
  return { trigger, latent: { repo: s.serviceRepo, sha: older.sha }, terms: [entry, pl.fn], timelineDeploys };
}

export function dependencyBump(s: Scene): Outcome {
  const r = s.rng;
  const lib = `${r.pick(LIB_STEMS)}-${r.pick(LIB_TAILS)}`;
  const major = r.int(1, 6);
  const oldV = `${major}.${r.int(0, 12)}.${r.int(0, 9)}`;
  const newV = `${major + (r.chance(0.5) ? 1 : 0)}.${r.int(0, 12)}.${r.int(0, 9)}`;
  const setting = r.pick([
    { what: 'default request timeout', from: '30000ms', to: `${r.int(2, 10) * 100}ms`, headline: (v: string) => `${pascal(lib.split('-'))}TimeoutError: request timed out after ${v}` },
    { what: 'default max retries', from: '3', to: '0', headline: () => `${pascal(lib.split('-'))}Error: request failed (attempt 1 of 1): ECONNRESET` },
    { what: 'default pool size', from: '10', to: '2', headline: (v: string) => `${pascal(lib.split('-'))}PoolError: no connection available (pool size ${v})` },
    // a release that never returns from loading: no timeout or pool in sight, only where the thread is stuck
    ...(s.lang === 'java' ? [] : [{ what: 'busy loop on load', from: '', to: '', headline: () => `worker stuck at start-up: main thread busy for ${r.int(300, 3000)}s` }]),
  ]);
  let files: Array<{ filename: string; patch: string }>;
  let frame: () => string;
  const mod = `github.com/${s.org.replace(/[^a-z]/g, '')}-oss/${lib}`;
  switch (s.lang) {
    case 'ts':
      files = [{ filename: 'package.json', patch: `@@ -20,3 +20,3 @@\n-    "${lib}": "^${oldV}",\n+    "${lib}": "^${newV}",` }, { filename: 'package-lock.json', patch: `@@ -910,4 +910,4 @@\n     "node_modules/${lib}": {\n-      "version": "${oldV}",\n-      "resolved": "https://registry.npmjs.org/${lib}/-/${lib}-${oldV}.tgz",\n+      "version": "${newV}",\n+      "resolved": "https://registry.npmjs.org/${lib}/-/${lib}-${newV}.tgz",` }];
      frame = () => `    at Client.request (/app/node_modules/${lib}/lib/client.js:${r.int(100, 600)}:${r.int(5, 30)})\n    at async Pool.acquire (/app/node_modules/${lib}/lib/pool.js:${r.int(40, 200)}:${r.int(5, 30)})`;
      break;
    case 'py':
      files = [{ filename: 'requirements.txt', patch: `@@ -7,3 +7,3 @@\n-${lib}==${oldV}\n+${lib}==${newV}` }];
      frame = () => `  File "/usr/local/lib/python3.11/site-packages/${snake(lib.split('-'))}/client.py", line ${r.int(100, 600)}, in request`;
      break;
    case 'go':
      files = [{ filename: 'go.mod', patch: `@@ -9,3 +9,3 @@\n-\t${mod} v${oldV}\n+\t${mod} v${newV}` }, { filename: 'go.sum', patch: `@@ -40,2 +40,2 @@\n-${mod} v${oldV} h1:${r.alnum(43)}=\n+${mod} v${newV} h1:${r.alnum(43)}=` }];
      frame = () => `${mod}.(*Client).Do(0xc000${r.hex(6)})\n\t/go/pkg/mod/${mod}@v${newV}/client.go:${r.int(100, 600)} +0x${r.hex(3)}`;
      break;
    case 'java':
      files = [{ filename: 'build.gradle', patch: `@@ -30,3 +30,3 @@\n-    implementation 'io.${lib.replace('-', '')}:${lib}:${oldV}'\n+    implementation 'io.${lib.replace('-', '')}:${lib}:${newV}'` }];
      frame = () => `\tat io.${lib.replace('-', '')}.client.Pool.acquire(Pool.java:${r.int(100, 600)})`;
      break;
  }
  const notes = r.chance(0.5) ? `\n\nRelease notes for ${newV}:\n- ${setting.what} changed from ${setting.from} to ${setting.to}\n- drop support for old runtimes` : '';
  const bot = r.chance(0.5) ? r.pick(['dependabot', 'renovate']) : undefined;
  const { deploy, sha } = culpritDeploy(s, s.serviceRepo, { message: `chore(deps): bump ${lib} from ${oldV} to ${newV}${notes}`, files, bot }, before(s, 1, 25));
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => trace(s, setting.headline(setting.to), [frame()]));
  if (r.chance(0.5)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`all the stack traces are inside ${lib}`, `${lib} got bumped to ${newV} in ${deploy.ref}, did its defaults change?`]));
  if (r.chance(0.6)) revertDeploy(s, deploy, { message: `Revert ${lib} to ${oldV}`, files: files.map((f) => ({ filename: f.filename, patch: f.patch.split('\n').map((l) => (l.startsWith('+') ? '-' + l.slice(1) : l.startsWith('-') ? '+' + l.slice(1) : l)).join('\n') })) });
  addDecoys(s, r.int(1, 4), deploy.finishedMs);
  return { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: [lib, setting.what.replace('default ', '')], timelineDeploys: [deploy.finishedMs] };
}
