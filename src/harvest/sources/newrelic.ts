// New Relic: NRQL TIMESERIES results through NerdGraph (GraphQL over HTTPS, plain fetch).
// GraphQL reports failures as `errors[]` in a 200 answer; those are errors too, retried only
// when they say the query timed out.
import { templated, type VendorCredentials } from '../config.js';
import type { DoctorCheck } from '../doctorTypes.js';
import { defaultClassify, fetchJson, VendorError, withRetries } from '../retry.js';
import type { HarvestContext, HarvestErrorEntry, HttpPolicy, SourceOutcome, TimeWindow } from '../types.js';

export type NewRelicCredentials = NonNullable<VendorCredentials['newrelic']>;

export interface NewRelicData {
  nrql: Array<{ query: string; results: unknown[] }>;
}

const SOURCE = 'newrelic';

export const NRQL_GRAPHQL =
  'query($accountId: Int!, $nrql: Nrql!, $timeout: Seconds) { actor { account(id: $accountId) { nrql(query: $nrql, timeout: $timeout) { results } } } }';
const USER_GRAPHQL = '{ actor { user { name } } }';

interface GraphQLError {
  message?: string;
  extensions?: { errorClass?: string; code?: string };
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

interface NrqlData {
  actor?: { account?: { nrql?: { results?: unknown[] | null } | null } | null } | null;
}

/** `SINCE <from ms> UNTIL <to ms>` appended unless the query already says SINCE. */
export function withTimeRange(nrql: string, window: TimeWindow): string {
  const q = nrql.trim().replace(/;+\s*$/, '');
  if (/\bSINCE\b/i.test(q)) return q;
  return `${q} SINCE ${Math.floor(window.fromMs)} UNTIL ${Math.ceil(window.toMs)}`;
}

function scrubber(creds: NewRelicCredentials): (s: string) => string {
  return (s) => (creds.apiKey.length >= 4 ? s.split(creds.apiKey).join('[REDACTED]') : s);
}

const isTimeout = (e: GraphQLError) => /time(d)?[\s_-]*out/i.test(`${e.message ?? ''} ${e.extensions?.errorClass ?? ''} ${e.extensions?.code ?? ''}`);
const isAuth = (e: GraphQLError) =>
  /UNAUTHORI[SZ]ED|FORBIDDEN|ACCESS_DENIED/i.test(`${e.extensions?.errorClass ?? ''} ${e.extensions?.code ?? ''}`) || /invalid api key|unauthori[sz]ed|access denied/i.test(e.message ?? '');

/** One NerdGraph request with our retry policy; GraphQL errors become VendorErrors (status 200). */
async function nerdgraph<T>(
  creds: NewRelicCredentials,
  policy: HttpPolicy,
  query: string,
  variables: Record<string, unknown>,
  onRetry: (attempt: number, delayMs: number, why: string) => void,
): Promise<T> {
  return withRetries(
    async (signal) => {
      const { body } = await fetchJson<GraphQLResponse<T>>(SOURCE, creds.apiUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'API-Key': creds.apiKey },
        body: JSON.stringify({ query, variables }),
        signal,
      });
      if (body.errors?.length) {
        const text = body.errors.map((e) => e.message ?? e.extensions?.errorClass ?? 'error').join('; ').slice(0, 300);
        const status = body.errors.some(isAuth) ? 403 : 200;
        throw new VendorError(SOURCE, `NerdGraph: ${text}`, status, status === 200 && body.errors.some(isTimeout));
      }
      if (!body.data) throw new VendorError(SOURCE, 'NerdGraph: answer without data', 200, false);
      return body.data;
    },
    { source: SOURCE, policy, classify: defaultClassify, onRetry },
  );
}

export async function harvestNewRelic(
  creds: NewRelicCredentials,
  ctx: HarvestContext,
  opts: { queries: string[] },
): Promise<SourceOutcome<NewRelicData>> {
  if (creds.accountId === null) {
    return { data: null, errors: [{ source: SOURCE, message: 'NEW_RELIC_ACCOUNT_ID is not set', retryable: false }], truncated: [] };
  }
  const scrub = scrubber(creds);
  const errors: HarvestErrorEntry[] = [];
  const nrql: NewRelicData['nrql'] = [];
  // NerdGraph's own query timeout, kept under ours so that a slow query reports as a GraphQL error
  const timeout = Math.min(30, Math.max(1, Math.floor(ctx.http.timeoutMs / 1000) - 1));
  const queries = [...new Set(opts.queries.map((q) => withTimeRange(templated(q, ctx.incident.service), ctx.window)))];
  for (const query of queries) {
    try {
      const data = await nerdgraph<NrqlData>(creds, ctx.http, NRQL_GRAPHQL, { accountId: creds.accountId, nrql: query, timeout }, (n, d, why) =>
        ctx.log(`newrelic: NRQL retry ${n} in ${d} ms (${scrub(why)})`),
      );
      const results = data.actor?.account?.nrql?.results;
      if (!Array.isArray(results)) {
        errors.push({ source: SOURCE, message: scrub(`NRQL "${query}": no results in the answer`), retryable: false });
        continue;
      }
      // The bundle holds TIMESERIES rows (beginTimeSeconds); anything else cannot be placed in time.
      const rows = results.filter((r) => typeof (r as { beginTimeSeconds?: unknown })?.beginTimeSeconds === 'number');
      if (results.length && !rows.length) {
        errors.push({ source: SOURCE, message: scrub(`NRQL "${query}": not a TIMESERIES result (add TIMESERIES to the query)`), retryable: false });
        continue;
      }
      nrql.push({ query, results: rows });
    } catch (err) {
      const e = err instanceof VendorError ? err : new VendorError(SOURCE, (err as Error)?.message ?? String(err), null, false);
      errors.push({ source: SOURCE, message: scrub(`NRQL "${query}": ${e.message}`), retryable: e.retryable });
    }
  }
  ctx.log(`newrelic: ${nrql.length} of ${queries.length} NRQL queries answered`);
  if (queries.length && !nrql.length && errors.length) return { data: null, errors, truncated: [] };
  return { data: { nrql }, errors, truncated: [] };
}

/** doctor: does NerdGraph accept the user key? The user's name is asked for and never shown. */
export async function checkNewRelic(creds: NewRelicCredentials, policy: HttpPolicy): Promise<DoctorCheck> {
  const scrub = scrubber(creds);
  const where = (() => {
    try {
      return new URL(creds.apiUrl).host;
    } catch {
      return 'NerdGraph';
    }
  })();
  const check: DoctorCheck = { source: 'newrelic', configured: true, reachable: null, authorized: null, missing: [], detail: '' };
  const account = creds.accountId === null ? '; NEW_RELIC_ACCOUNT_ID is not set, so NRQL queries will not run' : '';
  try {
    await nerdgraph<unknown>(creds, policy, USER_GRAPHQL, {}, () => {});
    check.reachable = true;
    check.authorized = true;
    check.detail = `${where}: user API key accepted${account}`;
  } catch (err) {
    const e = err instanceof VendorError ? err : new VendorError(SOURCE, (err as Error)?.message ?? String(err), null, true);
    check.reachable = e.status !== null;
    if (e.status === 401 || e.status === 403) {
      check.authorized = false;
      check.detail = `${where}: API key rejected (${e.status}); NEW_RELIC_API_KEY must be a User key (NRAK-...)${account}`;
    } else {
      check.detail = `${where}: ${e.status === null ? 'unreachable' : 'check failed'}: ${scrub(e.message)}${account}`;
    }
  }
  return check;
}
