// Code, config and innocent changes, with the error text each fault produces in this incident's
// language. The causal link is always in the data: file paths and functions in stack frames,
// identifiers and values shared by the diff and the errors.
import type { CommitSpec, Scene } from './scene.js';
import { CODE_AREAS, camel, identifierParts, kebab, pascal, snake } from './vocab.js';

export interface CodeFault {
  commit: CommitSpec;
  revert: CommitSpec;
  file: string;
  fn: string;
  /** the identifier the errors and the diff share */
  ident: string;
  error: (i: number) => string;
  terms: string[];
}

interface Place {
  file: string;
  fn: string;
  frame: (line: number) => string;
}

/** where a function lives in this incident's language, and how a stack frame names it */
export function place(s: Scene, base: string[], area = s.rng.pick(CODE_AREAS)): Place {
  const org = s.org.replace(/[^a-z]/g, '');
  const fnParts = [s.rng.pick(['apply', 'resolve', 'build', 'load', 'compute', 'validate', 'render', 'parse']), ...base];
  switch (s.lang) {
    case 'ts': {
      const file = `src/${area}/${camel(base)}.ts`;
      const fn = camel(fnParts);
      return { file, fn, frame: (l) => `    at ${fn} (/app/dist/${area}/${camel(base)}.js:${l}:${s.rng.int(5, 40)})` };
    }
    case 'py': {
      const file = `${org}/${area}/${snake(base)}.py`;
      const fn = snake(fnParts);
      return { file, fn, frame: (l) => `  File "/app/${file}", line ${l}, in ${fn}` };
    }
    case 'go': {
      const file = `internal/${area}/${snake(base)}.go`;
      const fn = pascal(fnParts);
      return { file, fn, frame: (l) => `${area}.${fn}(0xc000${s.rng.hex(6)})\n\t/app/${file}:${l} +0x${s.rng.hex(3)}` };
    }
    case 'java': {
      const cls = pascal(base);
      const file = `src/main/java/com/${org}/${area}/${cls}.java`;
      const fn = camel(fnParts);
      return { file, fn, frame: (l) => `\tat com.${org}.${area}.${cls}.${fn}(${cls}.java:${l})` };
    }
  }
}

function callers(s: Scene): string {
  const r = s.rng;
  switch (s.lang) {
    case 'ts': return `    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)\n    at next (/app/node_modules/express/lib/router/route.js:${r.int(100, 150)}:13)`;
    case 'py': return `  File "/usr/local/lib/python3.11/site-packages/flask/app.py", line ${r.int(800, 1900)}, in dispatch_request`;
    case 'go': return `net/http.HandlerFunc.ServeHTTP(0xc000${r.hex(6)})\n\t/usr/local/go/src/net/http/server.go:2136 +0x29`;
    case 'java': return '\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)';
  }
}

/** a stack trace: headline first (Python prints it last), then frames */
export function trace(s: Scene, headline: string, frames: string[]): string {
  if (s.lang === 'py') return `Traceback (most recent call last):\n${callers(s)}\n${frames.join('\n')}\n${headline}`;
  if (s.lang === 'go') return `panic: ${headline}\n\ngoroutine ${s.rng.int(20, 900)} [running]:\n${frames.join('\n')}\n${callers(s)}`;
  return `${headline}\n${frames.join('\n')}\n${callers(s)}`;
}

function codeLine(s: Scene, ts: string, py: string, go: string, java: string): string {
  return { ts, py, go, java }[s.lang];
}

/** a code change that breaks at runtime, in one of several ways */
export function codeFault(s: Scene, kind = s.rng.int(0, 2)): CodeFault {
  const r = s.rng;
  const parts = identifierParts(r, s.usedWords);
  s.usedWords.add(parts.join(' '));
  const noun = r.pick(s.dom.nouns);
  const pl = place(s, [noun, parts[1]!]);
  const line = r.int(20, 240);
  const field = s.lang === 'py' || s.lang === 'go' ? snake(parts) : camel(parts);
  const sub = r.pick(['id', 'name', 'value', 'code', 'amount']);
  if (kind === 0) {
    const headline = codeLine(s,
      `TypeError: Cannot read properties of undefined (reading '${sub}')`,
      `AttributeError: 'NoneType' object has no attribute '${sub}'`,
      'runtime error: invalid memory address or nil pointer dereference',
      `java.lang.NullPointerException: Cannot invoke "${pascal([parts[1]!])}.get${pascal([sub])}()" because the return value of "${pascal([noun])}.get${pascal(parts)}()" is null`);
    const added = codeLine(s,
      `+  const ${camel([parts[1]!])} = ${noun}.${field}.${sub};`,
      `+    ${snake([parts[1]!])} = ${noun}.${field}.${sub}`,
      `+\t${camel([parts[1]!])} := ${noun}.${pascal(parts)}.${pascal([sub])}`,
      `+        var ${camel([parts[1]!])} = ${noun}.get${pascal(parts)}().get${pascal([sub])}();`);
    const patch = `@@ -${line - 4},6 +${line - 4},9 @@\n ${codeLine(s, `export function ${pl.fn}(${noun}) {`, `def ${pl.fn}(${noun}):`, `func ${pl.fn}(${noun} *${pascal([noun])}) error {`, `    public Result ${pl.fn}(${pascal([noun])} ${noun}) {`)}\n${added}\n+  // use the ${parts.join(' ')} when present\n   return next(${noun});`;
    return finish(s, pl, line, headline, patch, `${r.pick(['Use', 'Apply', 'Support', 'Honour'])} ${parts.join(' ')} in ${noun} ${r.pick(['pricing', 'handling', 'responses', 'validation'])}`, field, [field, pl.file, pl.fn]);
  }
  if (kind === 1) {
    const allowed = r.sample(['standard', 'express', 'economy', 'priority', 'basic', 'premium'], 3);
    const bad = r.pick(['partially_shipped', 'legacy', 'unknown_v2', 'migrated', 'pending_review', 'archived']);
    const headline = codeLine(s,
      `ValidationError: invalid ${field} "${bad}": expected one of ${allowed.join(', ')}`,
      `ValueError: invalid ${field} '${bad}' (allowed: ${allowed.join(', ')})`,
      `invalid ${field} "${bad}"`,
      `java.lang.IllegalArgumentException: invalid ${field} '${bad}'`);
    const patch = `@@ -${line},4 +${line},8 @@\n+const ALLOWED_${snake(parts).toUpperCase()} = [${allowed.map((a) => `'${a}'`).join(', ')}];\n+if (!ALLOWED_${snake(parts).toUpperCase()}.includes(${noun}.${field})) {\n+  throw new ValidationError(\`invalid ${field}\`);\n+}`;
    return finish(s, pl, line, headline, patch, `Validate ${parts.join(' ')} strictly on ${noun}s`, field, [field, pl.file, 'strict']);
  }
  const table = `${noun}s`;
  const col = snake(parts);
  const headline = codeLine(s,
    `error: column "${col}" of relation "${table}" does not exist`,
    `psycopg2.errors.UndefinedColumn: column "${col}" of relation "${table}" does not exist`,
    `pq: column "${col}" of relation "${table}" does not exist`,
    `org.postgresql.util.PSQLException: ERROR: column "${col}" of relation "${table}" does not exist`);
  const patch = `@@ -${line},3 +${line},4 @@\n   SELECT id, status, created_at\n+       , ${col}\n   FROM ${table}\n   WHERE account_id = $1`;
  return finish(s, pl, line, headline, patch, `Read ${parts.join(' ')} with the ${noun} list`, col, [col, table, pl.file]);
}

function finish(s: Scene, pl: Place, line: number, headline: string, patch: string, message: string, ident: string, terms: string[]): CodeFault {
  const r = s.rng;
  const body = r.chance(0.5) ? `\n\n${r.pick(['Needed for the upcoming launch.', 'Follow-up to the design review.', 'Small refactor while here.', 'Closes #' + r.int(100, 9999) + '.'])}` : '';
  const commit = { message: message + body, files: [{ filename: pl.file, patch }] };
  const revertPatch = patch.split('\n').map((l) => (l.startsWith('+') ? '-' + l.slice(1) : l)).join('\n');
  const revert = { message: `Revert "${message}"\n\nThis reverts the change; errors in ${pl.fn}.`, files: [{ filename: pl.file, patch: revertPatch }] };
  return {
    commit, revert, file: pl.file, fn: pl.fn, ident, terms,
    error: () => trace(s, headline, [pl.frame(line + r.int(0, 3))]),
  };
}

/** innocent changes: docs, tests, styling, unrelated code in another service */
export function innocentCommit(s: Scene, kind = s.rng.int(0, 4)): CommitSpec {
  const r = s.rng;
  switch (kind) {
    case 0: return { message: r.pick(['docs: clarify local setup', 'docs: update runbook links', 'README: fix typo in the quick start', 'docs: add architecture diagram']), files: [{ filename: r.pick(['README.md', 'docs/runbook.md', 'docs/architecture.md', 'CONTRIBUTING.md']), patch: `@@ -${r.int(3, 80)},3 +${r.int(3, 80)},4 @@\n ## ${r.pick(['Setup', 'Running locally', 'Links', 'Overview'])}\n-See the wiki.\n+See the wiki and the ${r.pick(['onboarding', 'team', 'platform'])} page.\n+` }] };
    case 1: return { message: r.pick(['test: cover the empty list case', 'tests: deflake the retry test', 'test: add fixtures for pagination']), files: [{ filename: r.pick(['test/list.spec.ts', 'tests/test_pagination.py', 'internal/api/list_test.go', 'src/test/java/ListTest.java']), patch: `@@ -10,3 +10,9 @@\n+  it('returns an empty page', async () => {\n+    const res = await client.list({ limit: 0 });\n+    expect(res.items).toEqual([]);\n+  });` }] };
    case 2: return { message: r.pick(['style: fix header overflow on narrow screens', 'ui: align buttons in the footer', 'chore: bump copyright year']), files: [{ filename: r.pick(['src/styles/header.module.css', 'web/static/footer.css', 'LICENSE']), patch: `@@ -22,3 +22,4 @@\n .header nav {\n-  gap: 24px;\n+  gap: clamp(8px, 2vw, 24px);\n+  overflow-x: auto;` }] };
    case 3: return { message: 'chore(deps-dev): bump eslint from 8.56.0 to 8.57.0', bot: 'dependabot', files: [{ filename: 'package.json', patch: '@@ -48,3 +48,3 @@\n-    "eslint": "^8.56.0",\n+    "eslint": "^8.57.0",' }] };
    default: return { message: r.pick(['i18n: sync translations (de, fr, ja)', 'copy: new onboarding strings', 'analytics: add page view event']), files: [{ filename: r.pick(['locales/de/common.json', 'src/i18n/fr.json', 'web/analytics/events.ts']), patch: `@@ -1,3 +1,4 @@\n {\n+  "${kebab([r.pick(['welcome', 'banner', 'cta'])])}": "${r.pick(['Willkommen', 'Bienvenue', 'Hello again'])}",` }] };
  }
}

export type ConfigFormat = 'yaml' | 'json' | 'properties' | 'toml' | 'env';

export function configFile(s: Scene, fmt: ConfigFormat): string {
  const r = s.rng;
  const env = s.prodEnv;
  switch (fmt) {
    case 'yaml': return r.pick([`config/${env}.yaml`, 'config/db.yaml', `deploy/helm/values-${env}.yaml`, 'config/service.yml']);
    case 'json': return r.pick([`config/${env}.json`, 'config/settings.json']);
    case 'properties': return r.pick(['src/main/resources/application-prod.properties', 'config/app.properties']);
    case 'toml': return r.pick([`settings/${env}.toml`, 'config.toml']);
    case 'env': return r.pick([`.env.${env}`, 'deploy/env/production.env']);
  }
}

/** a one-key config diff in the file's own syntax */
export function configPatch(fmt: ConfigFormat, key: string, oldV: string | number, newV: string | number, context: string[] = []): string {
  const line = (k: string, v: string | number) => {
    switch (fmt) {
      case 'yaml': return `${k}: ${v}`;
      case 'json': return `"${k}": ${typeof v === 'number' ? v : JSON.stringify(v)},`;
      case 'properties': return `${k}=${v}`;
      case 'toml': return `${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`;
      case 'env': return `${k.toUpperCase().replace(/[.-]/g, '_')}=${v}`;
    }
  };
  const ctx = context.map((c) => ` ${c}`).join('\n');
  return `@@ -${3 + context.length},${1 + context.length} +${3 + context.length},${1 + context.length} @@\n${ctx ? ctx + '\n' : ''}-${line(key, oldV)}\n+${line(key, newV)}`;
}

export function keyIn(fmt: ConfigFormat, key: string): string {
  return fmt === 'env' ? key.toUpperCase().replace(/[.-]/g, '_') : key;
}
