// What a commit changes, read from its files and patches: which kinds of files, which config keys
// moved from what to what, which identifiers it touched, and how much runtime risk that carries.
import type { Commit } from './bundle.js';
import { modesOfChange, type FailureMode } from './failureModes.js';

export type FileClass =
  | 'docs' | 'test' | 'ci' | 'style' | 'i18n' | 'frontend' | 'dev_dependency' | 'dependency' | 'migration'
  | 'infra' | 'config' | 'source';

export interface ConfigChange {
  file: string;
  key: string;
  from: string | null;
  to: string | null;
}

export interface ChangeAnalysis {
  sha: string;
  subject: string;
  message: string;
  files: Array<{ filename: string; cls: FileClass; status: string | null }>;
  configChanges: ConfigChange[];
  /** identifiers on changed lines and in file names (original case) */
  identifiers: Set<string>;
  modes: FailureMode[];
  /** 0..1: how able this change is to alter runtime behaviour */
  risk: number;
  riskReason: string;
  unboundedGrowth: boolean;
  addedText: string;
  removedText: string;
  revertsSha: string | null;
  /**
   * Names the change gives to things outside itself, which errors may also name: hosts, tables,
   * packages (with versions), dashed or dotted names (rules, flags, policies), config keys.
   */
  names: ChangeName[];
  packages: PackageChange[];
  /** read from a change event's summary and details, not from a commit's diff */
  record: boolean;
}

export interface ChangeName {
  name: string;
  kind: 'host' | 'table' | 'package' | 'name' | 'key';
  /** only on added or only on removed lines: the change brings this name in or takes it away */
  introduced: boolean;
}

export interface PackageChange {
  name: string;
  from: string | null;
  to: string | null;
}

const FILE_RISK: Record<FileClass, number> = {
  docs: 0.02,
  test: 0.03,
  ci: 0.05,
  style: 0.08,
  i18n: 0.08,
  frontend: 0.2,
  dev_dependency: 0.1,
  dependency: 0.45,
  migration: 0.7,
  infra: 0.55,
  config: 0.6,
  source: 0.5,
};

const CLASS_WORDS: Record<FileClass, string> = {
  docs: 'documentation',
  test: 'tests',
  ci: 'CI configuration',
  style: 'stylesheets',
  i18n: 'translations',
  frontend: 'front-end components',
  dev_dependency: 'development dependencies',
  dependency: 'dependencies',
  migration: 'a database migration',
  infra: 'infrastructure',
  config: 'runtime configuration',
  source: 'application code',
};

const DEPENDENCY_MANIFEST =
  /^(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|npm-shrinkwrap\.json|go\.sum|gemfile\.lock|poetry\.lock|pipfile(\.lock)?|uv\.lock|cargo\.lock|composer\.(lock|json)|package\.json|requirements.*\.txt|constraints.*\.txt|go\.mod|pyproject\.toml|gemfile|cargo\.toml|build\.gradle(\.kts)?|gradle\.lockfile|libs\.versions\.toml|pom\.xml|[\w.-]+\.csproj|packages\.config|directory\.packages\.props|mix\.(exs|lock)|podfile\.lock|package\.resolved|pubspec\.(yaml|lock)|deps\.edn|project\.clj)$/;

export function classifyFile(filename: string, patch = ''): FileClass {
  const f = filename.toLowerCase();
  const base = f.split('/').pop() ?? f;
  if (DEPENDENCY_MANIFEST.test(base)) {
    // a lock file pins production dependencies too, whatever else it moves
    if (/^(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|uv\.lock|cargo\.lock|gemfile\.lock|composer\.lock|go\.sum|gradle\.lockfile|mix\.lock|podfile\.lock|pubspec\.lock|package\.resolved)$/.test(base)) return 'dependency';
    const dev = /devDependencies|"dev": true|eslint|prettier|@types\/|jest|vitest|mocha|pytest|rubocop/i.test(patch);
    // (`overrides` and `resolutions` force versions into the production tree)
    const prodHint = /"dependencies"|"overrides"|"resolutions"|require\s|^\+\s*[a-z0-9@/_-]+==/im.test(patch);
    return dev && !prodHint ? 'dev_dependency' : 'dependency';
  }
  if (/(^|\/)(docs?|documentation|runbooks?|postmortems?|adr)\//.test(f) || /\.(md|mdx|rst|adoc|txt)$/.test(f) || /^(readme|changelog|license|contributing|codeowners)/.test(base)) return 'docs';
  if (/(^|\/)(tests?|__tests__|spec|specs|e2e|fixtures?|testdata)\//.test(f) || /[._-](test|spec)\.[a-z0-9]+$/.test(base) || /_test\.go$/.test(base)) return 'test';
  if (/^\.github\/|^\.gitlab-ci|^\.circleci\/|jenkinsfile|^\.buildkite\/|\.(eslintrc|prettierrc)/.test(f)) return 'ci';
  if (/(^|\/)(locales?|i18n|translations?|lang)\//.test(f) || /\.(po|mo|xliff)$/.test(f)) return 'i18n';
  if (/\.(css|scss|sass|less|styl|svg|png|jpe?g|gif|ico|woff2?)$/.test(f)) return 'style';
  if (/(^|\/)(migrations?|migrate|db\/migrate)\//.test(f) || /\.sql$/.test(f)) return 'migration';
  if (/\.(tf|tfvars|hcl|zone)$/.test(f) || /(^|\/)(zones?|dns)\//.test(f) || /(^|\/)(helm|charts?|k8s|kubernetes|kustomize|manifests|terraform|ansible|deploy)\//.test(f) || /^dockerfile|docker-compose/.test(base)) return 'infra';
  if (/\.(ya?ml|json|toml|ini|env|properties|conf|cfg|hocon|xml)$/.test(f) || /\.conf(\.|$)|\.options$/.test(base) || /(^|\/)(config|configs|settings|flags)\//.test(f)) return 'config';
  if (/\.(tsx|jsx|vue|svelte)$/.test(f) || /(^|\/)(components|pages|views|public|static)\//.test(f)) return 'frontend';
  return 'source';
}

const KEY_VALUE = /^\s*["']?([A-Za-z_][\w.-]*)["']?\s*[:=]\s*(.*?)\s*,?\s*$/;

/** Pairs removed and added `key: value` lines of a patch, keeping the YAML parent path. */
export function configChangesOf(filename: string, patch: string): ConfigChange[] {
  const removed = new Map<string, string>();
  const added = new Map<string, string>();
  const stack: Array<{ indent: number; key: string }> = [];
  for (const raw of patch.split('\n')) {
    if (raw.startsWith('@@') || raw.startsWith('+++') || raw.startsWith('---')) continue;
    const sign = raw[0] === '+' || raw[0] === '-' ? raw[0] : ' ';
    const line = sign === ' ' ? raw.slice(raw.startsWith(' ') ? 1 : 0) : raw.slice(1);
    if (line.trim() === '' || /^\s*(#|\/\/)/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const m = KEY_VALUE.exec(line);
    if (!m) continue;
    const key = m[1]!;
    const value = m[2]!.replace(/^["']|["']$/g, '');
    const path = [...stack.map((s) => s.key), key].join('.');
    if (value === '' || value === '{' || value === '[') {
      stack.push({ indent, key });
      continue;
    }
    if (sign === '-') removed.set(path, value);
    else if (sign === '+') added.set(path, value);
  }
  const out: ConfigChange[] = [];
  for (const [key, to] of added) {
    const from = removed.get(key) ?? null;
    if (from === to) continue;
    out.push({ file: filename, key, from, to });
  }
  for (const [key, from] of removed) if (!added.has(key)) out.push({ file: filename, key, from, to: null });
  return out;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]{3,}/g;

function changedLines(patch: string, sign: '+' | '-'): string[] {
  return patch
    .split('\n')
    .filter((l) => l[0] === sign && !l.startsWith(sign.repeat(3)))
    .map((l) => l.slice(1));
}

const GROWTH = /new (Map|Set|WeakRef)\s*[<(]|\bcache\b|\bCache\b|=\s*\[\]\s*;?$|\.push\(|setInterval\(|addListener\(|\.on\(/;
const BOUND = /evict|\bmax(_?size|_?entries|_?items)?\b|maxSize|\blru\b|LRU|\bttl\b|TTL|expire|\.delete\(|\.clear\(|\.shift\(|\.splice\(|size\s*[><]=?|length\s*[><]=?|removeListener|clearInterval|limit/;

const VERSION_LINE = /"version"\s*:\s*"([^"]+)"|^\s*version\s*[= ]\s*"?([\w.+-]+)"?\s*$|<version>([\w.+-]+)<\/version>/;
const PACKAGE_HEADERS: RegExp[] = [
  /"node_modules\/((?:@[\w.-]+\/)?[\w.-]+)"\s*:/, // package-lock v2+
  /^\s*"?((?:@[\w.-]+\/)?[\w.-]+)@[^:\s]*"?(?:,\s*"?[^:]*)?:\s*$/, // yarn.lock
  /^\s*name\s*=\s*"([\w.-]+)"/, // Cargo.lock, poetry.lock
  /<artifactId>([\w.-]+)<\/artifactId>/, // pom.xml
];
const PACKAGE_INLINE: RegExp[] = [
  /^\s*"((?:@[\w.-]+\/)?[\w.-]+)"\s*:\s*"[~^>=<v ]*(\d[\w.+-]*)"/, // package.json
  /^\s*([A-Za-z0-9_.-]+)\s*(?:==|>=|~=|<=)\s*([\w.+-]+)/, // requirements
  /^\s*(?:require\s+)?((?:[\w.-]+\/)+[\w.-]+)\s+v(\d[\w.+-]*?)(?:\/go\.mod)?(?:\s|$)/, // go.mod, go.sum
  /^\s{2,}([\w.-]+) \(([\w.]+)\)/, // Gemfile.lock
  /['"]([\w.-]+:[\w.-]+):([\w.+-]+)['"]/, // Gradle group:artifact:version
  /<PackageReference\s+Include="([\w.-]+)"\s+Version="([\w.+-]+)"/, // .csproj
  /^\s*([\w.-]+)\s*=\s*"[~^>=<]*(\d[\w.+-]*)"/, // Cargo.toml, pyproject
];

/** Packages whose version a dependency manifest or lock file moves. */
export function packageChangesOf(patch: string): PackageChange[] {
  const from = new Map<string, string>();
  const to = new Map<string, string>();
  let current: string | null = null;
  for (const raw of patch.split('\n')) {
    if (raw.startsWith('@@') || raw.startsWith('+++') || raw.startsWith('---')) continue;
    const sign = raw[0] === '+' || raw[0] === '-' ? raw[0] : ' ';
    const body = sign === ' ' ? raw.slice(raw.startsWith(' ') ? 1 : 0) : raw.slice(1);
    const header = PACKAGE_HEADERS.map((re) => re.exec(body)).find(Boolean);
    if (header) {
      current = header[1]!;
      continue;
    }
    const version = VERSION_LINE.exec(body);
    if (version && current) {
      const v = (version[1] ?? version[2] ?? version[3])!;
      if (sign === '-') from.set(current, v);
      else if (sign === '+') to.set(current, v);
      continue;
    }
    if (sign === ' ') continue;
    for (const re of PACKAGE_INLINE) {
      const m = re.exec(body);
      if (!m) continue;
      (sign === '-' ? from : to).set(m[1]!, m[2]!);
      break;
    }
  }
  const out: PackageChange[] = [];
  for (const name of new Set([...from.keys(), ...to.keys()])) {
    const a = from.get(name) ?? null;
    const b = to.get(name) ?? null;
    if (a !== b && !/^(name|version|lockfileVersion|requires|packages|dependencies|resolved|integrity)$/.test(name)) out.push({ name, from: a, to: b });
  }
  return out;
}

const SQL_TABLE = /\b(?:ALTER\s+TABLE(?:\s+ONLY)?|CREATE\s+(?:UNIQUE\s+)?INDEX(?:\s+CONCURRENTLY)?(?:\s+IF\s+NOT\s+EXISTS)?(?:\s+[\w"`.]+)?\s+ON|DROP\s+INDEX(?:\s+CONCURRENTLY)?(?:\s+IF\s+EXISTS)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|LOCK\s+TABLE|UPDATE|INSERT\s+INTO|DELETE\s+FROM|REFERENCES|TRUNCATE(?:\s+TABLE)?|VACUUM(?:\s+FULL)?|REINDEX\s+(?:TABLE|INDEX))\s+["`]?([A-Za-z_][\w.]*)["`]?/gi;
const ORM_TABLE = /\b(?:add_column|remove_column|add_index|remove_index|create_table|drop_table|change_column|rename_column|add_reference|alterTable|createTable|dropTable|renameColumn|addColumn|removeColumn|addIndex|op\.\w+)\s*\(?\s*[:'"]([A-Za-z_][\w.]*)/g;
const HOST = /\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z][a-z0-9-]*[a-z0-9])\b(?::\d{2,5})?|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{2,5})?\b/gi;
const FILE_EXT = /\.(js|ts|tsx|jsx|mjs|cjs|json|ya?ml|toml|ini|md|txt|py|go|rb|java|kt|rs|sql|tf|sh|lock|conf|cfg|xml|html|css|env|properties|log|gz|zip|png|svg)$/i;
const DASHED = /\b[a-z][a-z0-9]*(?:[-.][a-z0-9]+){1,6}\b/g;

const GENERIC_DIRS = /^(config|configs|settings|values|charts?|templates|manifests|deploy|environments?|envs?|overlays|base|common|shared|default|defaults|services?|apps?|modules?|terraform|infra|platform|clusters?|production|staging|global|regions?|files|etc|conf|src|lib)$/;

function namesOf(plus: string[], minus: string[], configChanges: ConfigChange[], packages: PackageChange[], filePaths: string[] = []): ChangeName[] {
  const out = new Map<string, ChangeName>();
  const removed = minus.join('\n').toLowerCase();
  const add = (name: string, kind: ChangeName['kind']) => {
    const key = name.toLowerCase();
    const seen = out.get(key);
    if (seen && kind === 'key' && seen.kind === 'name') seen.kind = 'key';
    if (key.length < 3 || seen) return;
    const inAdded = addedLower.includes(key);
    const inRemoved = removed.includes(key);
    out.set(key, { name, kind, introduced: inAdded !== inRemoved });
  };
  const addedLower = plus.join('\n').toLowerCase();
  const text = [...plus, ...minus].join('\n');
  for (const m of text.matchAll(SQL_TABLE)) if (!/^(set|select|where|values|if|on|only|table|index)$/i.test(m[1]!)) add(m[1]!, 'table');
  for (const m of text.matchAll(ORM_TABLE)) add(m[1]!, 'table');
  for (const p of packages) {
    add(p.name, 'package');
    // Maven coordinates: group and artifact each show in stack traces
    if (p.name.includes(':')) for (const part of p.name.split(':')) add(part, 'package');
  }
  // Zone-file records (`queue 300 IN CNAME lb-1.example.com.`) name a host by its label.
  for (const line of [...plus, ...minus]) {
    const m = /^\s*([a-z0-9_*-]+(?:\.[a-z0-9_-]+)*)\.?\s+(?:\d+\s+)?(?:IN\s+)?(?:A|AAAA|CNAME|ALIAS|MX|TXT|SRV|NS|PTR)\s+\S/i.exec(line);
    if (m && m[1] !== '@' && m[1] !== '*') add(m[1]!, 'host');
  }
  for (const m of text.matchAll(HOST)) {
    const h = m[0];
    if (FILE_EXT.test(h.replace(/:\d+$/, '')) || /^\d+(\.\d+){1,2}$/.test(h) || /^v?\d/.test(h) && !/^\d{1,3}(\.\d{1,3}){3}/.test(h)) continue;
    if (!/[a-z].*\.[a-z]|^\d{1,3}(\.\d{1,3}){3}/i.test(h)) continue;
    add(h, 'host');
  }
  for (const m of text.matchAll(DASHED)) {
    const n = m[0];
    if (n.length >= 8 && !FILE_EXT.test(n) && !/^\d/.test(n) && !out.has(n)) add(n, 'name');
  }
  // Directories and file stems that scope the change (`services/traffic-router/agent.hcl`); for
  // settings and infrastructure, a plain directory names the component configured (`named/`).
  for (const path of filePaths) {
    const settings = /\.(ya?ml|json|toml|ini|conf|cfg|hcl|tf|zone|options)$|\.conf\./.test(path);
    const segs = path.split('/');
    segs.forEach((seg, i) => {
      const stem = seg.replace(/\.[^.]+$/, '');
      if (/^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+$/.test(stem) && stem.length >= 8) add(stem, 'name');
      else if (settings && i < segs.length - 1 && /^[a-z][a-z0-9]{4,}$/.test(seg) && !GENERIC_DIRS.test(seg)) add(seg, 'name');
    });
  }
  // Every segment of a changed key's path: `enable_express_code.rollout_percent` names the flag.
  for (const c of configChanges) {
    const parts = c.key.split('.');
    parts.forEach((part, i) => {
      if (part.length >= (i === parts.length - 1 ? 4 : 6) && !/^\d+$/.test(part)) add(part, 'key');
    });
  }
  return [...out.values()].slice(0, 80);
}

export function analyzeCommit(commit: Commit): ChangeAnalysis {
  const message = commit.commit?.message ?? '';
  const subject = message.split('\n')[0] ?? '';
  const files = (commit.files ?? []).map((f) => ({
    filename: f.filename,
    cls: classifyFile(f.filename, f.patch ?? ''),
    status: f.status ?? null,
  }));
  const identifiers = new Set<string>();
  const configChanges: ConfigChange[] = [];
  const modeSet = new Set<FailureMode>();
  let addedText = '';
  let removedText = '';
  const packages: PackageChange[] = [];
  const plusAll: string[] = [];
  const minusAll: string[] = [];
  for (const f of commit.files ?? []) {
    const cls = classifyFile(f.filename, f.patch ?? '');
    const patch = f.patch ?? '';
    const runtime = !['docs', 'test', 'ci', 'style', 'i18n', 'dev_dependency'].includes(cls);
    const stem = (f.filename.split('/').pop() ?? '').replace(/\.[^.]+$/, '');
    if (runtime && stem.length >= 4) identifiers.add(stem);
    const plus = changedLines(patch, '+');
    const minus = changedLines(patch, '-');
    if (cls === 'dependency') packages.push(...packageChangesOf(patch));
    if (runtime) {
      plusAll.push(...plus);
      minusAll.push(...minus);
      for (const line of [...plus, ...minus]) for (const m of line.matchAll(IDENT)) identifiers.add(m[0]);
      addedText += plus.join('\n') + '\n';
      removedText += minus.join('\n') + '\n';
      for (const mode of modesOfChange(f.filename + '\n' + plus.join('\n') + '\n' + minus.join('\n'))) modeSet.add(mode);
    }
    if (cls === 'config' || cls === 'infra' || /\.(ya?ml|json|toml|ini|env|properties|conf)$/.test(f.filename)) {
      if (runtime) configChanges.push(...configChangesOf(f.filename, patch));
    }
  }
  if (files.length) for (const mode of modesOfChange(subject)) if (files.some((f) => FILE_RISK[f.cls] >= 0.3)) modeSet.add(mode);

  const unboundedGrowth = GROWTH.test(addedText) && !BOUND.test(addedText) && !/cache|Map|Set/.test(removedText);
  if (unboundedGrowth) modeSet.add('memory');

  let risk = files.length ? Math.max(...files.map((f) => FILE_RISK[f.cls])) : 0.3;
  const top = files.slice().sort((a, b) => FILE_RISK[b.cls] - FILE_RISK[a.cls])[0];
  let riskReason = files.length ? `touches only ${[...new Set(files.map((f) => CLASS_WORDS[f.cls]))].join(', ')}` : 'no file list in the bundle';
  if (top && FILE_RISK[top.cls] >= 0.3) riskReason = `changes ${CLASS_WORDS[top.cls]} (${top.filename})`;
  const runtimeKeys = configChanges.filter((c) => /pool|conn|timeout|limit|max|min|size|replica|flag|enable|rate|retry|ttl|memory|cpu|thread|worker|url|host|endpoint|share|weight|percent/i.test(c.key));
  const flagFlips = configChanges.filter((c) => /^(true|false|on|off|yes|no|enabled?|disabled?)$/i.test(c.to ?? '') && c.from !== null);
  if (flagFlips.length) modeSet.add('feature_flag');
  for (const f of flagFlips) if (!runtimeKeys.includes(f)) runtimeKeys.push(f);
  if (runtimeKeys.length) {
    risk = Math.max(risk, 0.8);
    riskReason = `changes runtime settings (${runtimeKeys.map((c) => c.key.split('.').pop()).join(', ')})`;
  }
  if (unboundedGrowth) risk = Math.max(risk, 0.7);

  const revert = /This reverts commit ([0-9a-f]{7,40})/i.exec(message);
  const bump = /\b(?:bump|upgrade|update|downgrade)s?\s+[`'"]?((?:@[\w.-]+\/)?[\w.:/-]+?)[`'"]?\s+from\s+v?([\w.+-]+)\s+to\s+v?([\w.+-]+)/i.exec(subject);
  if (bump && files.some((f) => f.cls === 'dependency') && !packages.some((p) => p.name.toLowerCase() === bump[1]!.toLowerCase())) {
    packages.push({ name: bump[1]!, from: bump[2]!, to: bump[3]! });
  }
  if (packages.length) {
    for (const p of packages) modeSet.add('upstream');
    risk = Math.max(risk, 0.55);
    if (!runtimeKeys.length) riskReason = `upgrades ${packages.slice(0, 3).map((p) => `${p.name}${p.from && p.to ? ` ${p.from} → ${p.to}` : p.to ? ` to ${p.to}` : ''}`).join(', ')}`;
  }
  return {
    record: false,
    names: namesOf(plusAll, minusAll, configChanges, packages, files.filter((f) => !['docs', 'test', 'ci', 'style', 'i18n'].includes(f.cls)).map((f) => f.filename)),
    packages,
    sha: commit.sha,
    subject,
    message,
    files,
    configChanges,
    identifiers,
    modes: [...modeSet],
    risk,
    riskReason,
    unboundedGrowth,
    addedText,
    removedText,
    revertsSha: revert?.[1] ?? null,
  };
}

/** Verb-first form for prose: "lowers max_connections from 100 to 10 in config/db.yaml". */
export function configChangePhrase(c: ConfigChange): string {
  const d = describeConfigChange(c);
  return d.startsWith(c.file + ' ') ? `${d.slice(c.file.length + 1)} in ${c.file}` : d;
}

export function describeConfigChange(c: ConfigChange): string {
  const key = c.key.split('.').pop() ?? c.key;
  if (c.from !== null && c.to !== null) {
    const a = Number(c.from);
    const b = Number(c.to);
    const verb = Number.isFinite(a) && Number.isFinite(b) ? (b < a ? 'lowers' : b > a ? 'raises' : 'changes') : 'changes';
    return `${c.file} ${verb} ${key} from ${c.from} to ${c.to}`;
  }
  if (c.to !== null) return `${c.file} sets ${key} to ${c.to}`;
  return `${c.file} removes ${key} (was ${c.from})`;
}

/**
 * A change recorded outside git (a PagerDuty change event, a Datadog deployment or config event),
 * read like a config commit: its summary and details become a patch of `key: value` lines, and
 * "flag X from off to on" style summaries become the setting they flip.
 */
export function analyzeChangeRecord(sha: string | null, summary: string, details: unknown, text: string, label: string): ChangeAnalysis {
  const lines: string[] = [];
  const pairs: Array<[string, string]> = [
    ['from', 'to'], ['old', 'new'], ['previous', 'current'], ['before', 'after'], ['old_value', 'new_value'], ['previous_value', 'value'], ['was', 'now'],
  ];
  const walk = (value: unknown, path: string[], depth: number) => {
    if (depth > 4 || lines.length > 200) return;
    if (value === null || value === undefined) return;
    if (typeof value !== 'object') {
      const key = path[path.length - 1] ?? 'value';
      lines.push(`${'  '.repeat(Math.max(0, path.length - 1))}+${key}: ${String(value).replace(/\n/g, ' ')}`);
      return;
    }
    if (Array.isArray(value)) {
      value.slice(0, 50).forEach((v) => walk(v, path, depth + 1));
      return;
    }
    const obj = value as Record<string, unknown>;
    const pair = pairs.find(([a, b]) => a in obj && b in obj && typeof obj[a] !== 'object' && typeof obj[b] !== 'object');
    // {flag_key: "x", previous: true, current: false} names its own setting
    // …and so does what a switch acts on ({killswitch: "rule:7f", from: off, to: on}), so that the
    // event switching it back names the same setting
    const namedBy = (Object.entries(obj).find(([k, v]) => typeof v === 'string' && /^(flag_?key|flag|key|setting|rule|policy|name|parameter)$/i.test(k)) ??
      Object.entries(obj).find(([k, v]) => typeof v === 'string' && /^(kill_?switch|switch|toggle|target|(flag|feature|rule|policy|setting)_?(name|id))$/i.test(k)))?.[1] as string | undefined;
    if (pair && (path.length || namedBy)) {
      // `rule:7f3e21` as a key would read as a key and a value
      const key = (namedBy ?? path[path.length - 1]!).replace(/[:\s]+/g, '.');
      lines.push(`-${key}: ${String(obj[pair[0]])}`, `+${key}: ${String(obj[pair[1]])}`);
      return;
    }
    for (const [k, v] of Object.entries(obj).slice(0, 60)) walk(v, [...path, k], depth + 1);
  };
  walk(details, [], 0);
  const flat = lines.map((l) => l[0] + l.slice(1).trimStart());
  const verb = /\b(enabled?|turned on|switched on|activated|rolled out|disabled?|turned off|switched off|deactivated|killed)\b/i.exec(summary);
  const named =
    /[`'"‘“]([A-Za-z_][\w.:-]{2,})[`'"’”]/.exec(summary) ??
    /\b(?:flag|feature|toggle|experiment|rule|policy)\s+([A-Za-z_][\w.:-]{2,})/i.exec(summary) ??
    /\b([A-Za-z_][\w.:-]*[_.-][\w.:-]+)\s+(?:flag|feature|toggle)\b/i.exec(summary);
  const flag = verb && named ? [verb[0], verb[1]!, named[1]!] : null;
  const fromTo = /[`'"]?([A-Za-z_][\w.-]{2,})[`'"]?\s*(?:changed\s+)?(?:from|:)\s*(?:[a-z]+\s+)?[`'"]?([\w.%-]+)[`'"]?\s*(?:->|→|=>|\bto\b)\s*[`'"]?([\w.%-]+)/i.exec(summary);
  if (fromTo) flat.push(`-${fromTo[1]}: ${fromTo[2]}`, `+${fromTo[1]}: ${fromTo[3]}`);
  else if (flag) {
    const on = !/disabl|off|deactivat|killed/i.test(flag[1]!);
    flat.push(`-${flag[2]}: ${on ? 'off' : 'on'}`, `+${flag[2]}: ${on ? 'on' : 'off'}`);
  }
  const patch = ['@@ -1 +1 @@', `+# ${summary.replace(/\n/g, ' ')}`, ...text.split('\n').slice(0, 40).map((l) => `+# ${l}`), ...flat].join('\n');
  const filename = `${label}.yaml`;
  const a = analyzeCommit({ sha: sha ?? '', commit: { message: summary }, files: [{ filename, status: 'modified', patch }] } as Commit);
  a.identifiers.delete(label);
  return {
    ...a,
    record: true,
    files: a.files.map((f) => ({ ...f, filename: label })),
    configChanges: a.configChanges.map((c) => ({ ...c, file: label })),
  };
}
