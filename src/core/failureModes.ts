// Failure modes: the shared vocabulary between what a change touched and what the incident showed.
// A change that lowers a pool limit and errors that say "pool exhausted" meet on one mode.

export type FailureMode =
  | 'connection_pool'
  | 'timeout'
  | 'memory'
  | 'validation'
  | 'rate_limit'
  | 'capacity'
  | 'feature_flag'
  | 'tls'
  | 'network'
  | 'upstream'
  | 'database'
  | 'auth'
  | 'crash';

interface ModeRule {
  mode: FailureMode;
  /** what a change of this mode touches, for evidence lines */
  changeNoun: string;
  /** words in error logs, alerts and metric names */
  symptom: RegExp;
  /** words in a changed line, file or config key */
  change: RegExp;
  label: string;
}

export const MODE_RULES: readonly ModeRule[] = [
  {
    mode: 'connection_pool',
    changeNoun: 'connection-pool settings',
    symptom: /\bpool\b|pool exhausted|too many connections|acquir\w* (an? )?(\w+ )?connection|connections?\b.*\b(exhaust|limit|refused|waiting)|max_?connections/i,
    change: /pool|max_?conn|min_?conn|max_?idle|connection_?limit|maxopenconns|acquire/i,
    label: 'connection pool exhaustion',
  },
  {
    mode: 'timeout',
    changeNoun: 'timeouts',
    symptom: /time(d)? ?out|timeout|deadline exceeded|ETIMEDOUT/i,
    change: /timeout|deadline|_ms\b/i,
    label: 'timeouts',
  },
  {
    mode: 'memory',
    changeNoun: 'in-memory caching or buffering',
    symptom: /out of memory|OOM|heap limit|heap out|memory\b|exit code 137|GC overhead/i,
    change: /cache|new Map\(|new Set\(|memory|heap|buffer|\.push\(|max_?old_?space|memory_?limit|Xmx/i,
    label: 'memory exhaustion',
  },
  {
    mode: 'validation',
    changeNoun: 'data validation or decoding',
    symptom: /serializ|deserializ|unknown enum|invalid|validation|schema|parse error|cannot parse|decode|unexpected (token|value|type)|TypeError|undefined is not/i,
    change: /strict|validat|schema|enum|serializ|decode|parse|assert|required|throw/i,
    label: 'rejected data',
  },
  {
    mode: 'rate_limit',
    changeNoun: 'rate limits',
    symptom: /rate.?limit|throttl|\b429\b|quota|too many requests/i,
    change: /rate.?limit|throttl|quota|burst|rps|qps/i,
    label: 'rate limiting',
  },
  {
    mode: 'capacity',
    changeNoun: 'capacity settings',
    symptom: /cpu|saturat|queue (full|depth)|overload|concurrency|throttled|no healthy upstream|capacity/i,
    change: /replicas|autoscal|min_?instances|max_?instances|(min|max|desired)_?(size|capacity|count)|workers|threads|concurrency|cpu|resources|queue_?(size|depth|capacity|length)|capacity|backlog/i,
    label: 'capacity shortfall',
  },
  {
    mode: 'feature_flag',
    changeNoun: 'feature flags',
    symptom: /flag|feature/i,
    change: /flag|feature|rollout_?percent|enabled|toggle/i,
    label: 'a feature flag',
  },
  {
    mode: 'tls',
    changeNoun: 'TLS settings',
    symptom: /tls|ssl|x509|certificate|handshake/i,
    change: /tls|ssl|cert|ca_?bundle|cipher/i,
    label: 'TLS failures',
  },
  {
    mode: 'network',
    changeNoun: 'network endpoints',
    symptom: /ENOTFOUND|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|EAI_AGAIN|gaierror|getaddrinfo|name or service not known|no such host|could not resolve|NXDOMAIN|SERVFAIL|UnknownHostException|dns|name resolution|no route|network (is )?unreachable|connection refused|dial tcp|i\/o timeout|connection timed out|connect timeout/i,
    change: /dns|(?<![a-z])(hosts?|hostname|endpoints?|urls?|address(es)?|ports?|routes?|zones?|records?)(?![a-z])|egress|ingress|firewall|security_?group|cidr|\bCNAME\b|\bA\s+\d|resolver|network_?polic|load.?balancer/i,
    label: 'network failures',
  },
  {
    mode: 'upstream',
    changeNoun: 'upstream calls',
    symptom: /upstream|provider|\b50[234]\b|bad gateway|service unavailable|gateway timeout|dependency/i,
    change: /upstream|provider|base_?url|endpoint|retry|circuit|failover|routing/i,
    label: 'a failing upstream dependency',
  },
  {
    mode: 'database',
    changeNoun: 'the database schema',
    symptom: /deadlock|lock wait|lock timeout|lock_timeout|waiting for \w*lock|AccessExclusiveLock|ShareLock|metadata lock|relation .* does not exist|column .* does not exist|no such (table|column)|duplicate key|seq(uential)? scan|full table scan|slow query|missing index|migration|sql/i,
    change: /migrat|ALTER TABLE|CREATE INDEX|DROP |\.sql$|schema/i,
    label: 'database errors',
  },
  {
    mode: 'auth',
    changeNoun: 'credentials or permissions',
    symptom: /unauthori[sz]ed|forbidden|\b401\b|\b403\b|permission denied|access denied|invalid token|expired token/i,
    change: /auth|token|permission|role|scope|iam|policy|secret|credential/i,
    label: 'authorisation failures',
  },
  {
    mode: 'crash',
    changeNoun: 'process lifecycle',
    symptom: /panic|segfault|fatal|crash|CrashLoopBackOff|restart|terminated|exit code/i,
    change: /.^/,
    label: 'crashing processes',
  },
];

export function modesOfSymptom(text: string): FailureMode[] {
  return MODE_RULES.filter((r) => r.symptom.test(text)).map((r) => r.mode);
}

export function modesOfChange(text: string): FailureMode[] {
  return MODE_RULES.filter((r) => r.change.test(text)).map((r) => r.mode);
}

export function modeChangeNoun(mode: FailureMode): string {
  return MODE_RULES.find((r) => r.mode === mode)?.changeNoun ?? mode;
}

export function modeSymptomPattern(mode: FailureMode): RegExp {
  return MODE_RULES.find((r) => r.mode === mode)?.symptom ?? /.^/;
}

export function modeLabel(mode: FailureMode): string {
  return MODE_RULES.find((r) => r.mode === mode)?.label ?? mode;
}
