// The harvest: one incident id -> a context bundle v1, every configured source read
// independently. A source that fails is recorded in harvest.errors and the rest goes on; a
// source that is not configured is skipped, not an error.
import { readBundle, type Bundle } from '../core/bundle.js';
import { redactSecrets } from '../core/redact.js';
import { ENGINE_VERSION } from '../core/analyze.js';
import { ConfigError, serviceMapping, type HarvestConfig } from './config.js';
import { VendorError } from './retry.js';
import { fetchPagerDutyIncident, harvestPagerDuty } from './sources/pagerduty.js';
import { fetchOpsgenieIncident, harvestOpsgenie } from './sources/opsgenie.js';
import { harvestSlack } from './sources/slack.js';
import { harvestGithub } from './sources/github.js';
import { harvestDatadog } from './sources/datadog.js';
import { harvestNewRelic } from './sources/newrelic.js';
import type { HarvestContext, HarvestedIncident, HarvestErrorEntry, SourceOutcome, TruncationEntry } from './types.js';

export type SourceName = 'pagerduty' | 'opsgenie' | 'slack' | 'github' | 'datadog' | 'newrelic';
export type SourceStatus = 'ok' | 'error' | 'skipped';

export interface HarvestOptions {
  slackChannel?: string | null;
  log?: (message: string) => void;
  now?: () => Date;
}

/** The incident could not be found or read at all: nothing to analyse. */
export class HarvestError extends Error {
  override name = 'HarvestError';
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
  }
}

async function findIncident(id: string, config: HarvestConfig): Promise<HarvestedIncident> {
  const { pagerduty, opsgenie } = config.credentials;
  if (!pagerduty && !opsgenie) {
    throw new ConfigError('no paging source configured: set PAGERDUTY_TOKEN (or OPSGENIE_API_KEY) to harvest by incident id');
  }
  const failures: string[] = [];
  if (pagerduty) {
    try {
      return await fetchPagerDutyIncident(pagerduty, id, config.http);
    } catch (err) {
      failures.push(`PagerDuty: ${redactSecrets((err as Error).message)}`);
      const notFound = err instanceof VendorError && err.status === 404;
      if (!notFound || !opsgenie) throw new HarvestError(`incident ${id}: ${failures.join('; ')}`, notFound);
    }
  }
  try {
    return await fetchOpsgenieIncident(opsgenie!, id, config.http);
  } catch (err) {
    failures.push(`Opsgenie: ${redactSecrets((err as Error).message)}`);
    throw new HarvestError(`incident ${id}: ${failures.join('; ')}`, err instanceof VendorError && err.status === 404);
  }
}

async function settle<T>(source: SourceName, run: () => Promise<SourceOutcome<T>>): Promise<SourceOutcome<T>> {
  try {
    return await run();
  } catch (err) {
    // Sources report their own failures; this is the safety net for a bug or an SDK surprise.
    return { data: null, errors: [{ source, message: redactSecrets((err as Error).message ?? String(err)), retryable: false }], truncated: [] };
  }
}

function firstAcknowledgement(logEntries: unknown[]): string | null {
  for (const e of logEntries as Array<{ type?: string; created_at?: string }>) {
    if (e?.type?.startsWith('acknowledge') && e.created_at) return e.created_at;
  }
  return null;
}

export interface HarvestSummary {
  bundle: Bundle;
  sources: Record<SourceName, SourceStatus>;
}

export async function harvestIncident(incidentId: string, config: HarvestConfig, options: HarvestOptions = {}): Promise<HarvestSummary> {
  const log = (m: string) => options.log?.(redactSecrets(m));
  const now = options.now?.() ?? new Date();
  const incident = await findIncident(incidentId, config);
  const createdMs = Date.parse(incident.createdAt);
  const endMs = (incident.resolvedAt ? Date.parse(incident.resolvedAt) : now.getTime()) + config.afterResolveMs;
  const service = serviceMapping(config, incident.service);
  const ctx: HarvestContext = {
    incident,
    window: { fromMs: createdMs - config.lookbackMs, toMs: endMs },
    deployWindow: { fromMs: createdMs - config.deployLookbackMs, toMs: endMs },
    caps: config.caps,
    http: config.http,
    service,
    log,
  };
  log(`harvesting ${incident.source} incident ${incident.id} (${incident.service ?? 'no service'}), window ${new Date(ctx.window.fromMs).toISOString()} .. ${new Date(ctx.window.toMs).toISOString()}`);

  const c = config.credentials;
  const statuses: Record<SourceName, SourceStatus> = { pagerduty: 'skipped', opsgenie: 'skipped', slack: 'skipped', github: 'skipped', datadog: 'skipped', newrelic: 'skipped' };
  const skip = <T>(): Promise<SourceOutcome<T>> => Promise.resolve({ data: null, errors: [], truncated: [] });
  const [pd, og, slack, github, datadog, newrelic] = await Promise.all([
    incident.source === 'pagerduty' && c.pagerduty ? settle('pagerduty', () => harvestPagerDuty(c.pagerduty!, ctx)) : skip<Awaited<ReturnType<typeof harvestPagerDuty>>['data']>(),
    incident.source === 'opsgenie' && c.opsgenie ? settle('opsgenie', () => harvestOpsgenie(c.opsgenie!, ctx)) : skip<Awaited<ReturnType<typeof harvestOpsgenie>>['data']>(),
    c.slack ? settle('slack', () => harvestSlack(c.slack!, ctx, { channel: options.slackChannel ?? null })) : skip<Awaited<ReturnType<typeof harvestSlack>>['data']>(),
    c.github && service.repos.length
      ? settle('github', () => harvestGithub(c.github!, ctx, { repos: service.repos, environment: config.githubEnvironment, deployWorkflow: config.githubDeployWorkflow }))
      : skip<Awaited<ReturnType<typeof harvestGithub>>['data']>(),
    c.datadog
      ? settle('datadog', () => harvestDatadog(c.datadog!, ctx, { queries: service.datadogQueries, logQuery: service.datadogLogQuery, snapshots: config.datadogSnapshots }))
      : skip<Awaited<ReturnType<typeof harvestDatadog>>['data']>(),
    c.newrelic && service.newrelicQueries.length ? settle('newrelic', () => harvestNewRelic(c.newrelic!, ctx, { queries: service.newrelicQueries })) : skip<Awaited<ReturnType<typeof harvestNewRelic>>['data']>(),
  ]);
  const outcomes: Array<[SourceName, SourceOutcome<unknown>, boolean]> = [
    ['pagerduty', pd, incident.source === 'pagerduty' && !!c.pagerduty],
    ['opsgenie', og, incident.source === 'opsgenie' && !!c.opsgenie],
    ['slack', slack, !!c.slack],
    ['github', github, !!c.github && service.repos.length > 0],
    ['datadog', datadog, !!c.datadog],
    ['newrelic', newrelic, !!c.newrelic && service.newrelicQueries.length > 0],
  ];
  const errors: HarvestErrorEntry[] = [];
  const truncated: TruncationEntry[] = [];
  for (const [name, outcome, ran] of outcomes) {
    errors.push(...outcome.errors.map((e) => ({ ...e, message: redactSecrets(e.message) })));
    truncated.push(...outcome.truncated);
    if (ran) statuses[name] = outcome.errors.length && outcome.data === null ? 'error' : 'ok';
    if (ran) log(`${name}: ${statuses[name]}${outcome.errors.length ? ` (${outcome.errors.length} error${outcome.errors.length > 1 ? 's' : ''})` : ''}`);
  }
  if (c.github && service.repos.length === 0) log('github: skipped (no repositories configured: HINDSIGHT_GITHUB_REPOS or services.<name>.repos)');

  const sources: Record<string, unknown> = {};
  if (pd.data) sources.pagerduty = pd.data;
  if (og.data) sources.opsgenie = og.data;
  if (slack.data) sources.slack = slack.data;
  if (github.data) sources.github = github.data;
  if (datadog.data) {
    sources.datadog = datadog.data.datadog;
    if (datadog.data.logs.length) sources.logs = datadog.data.logs;
  }
  if (newrelic.data) sources.newrelic = newrelic.data;

  const bundle = {
    bundle_version: 1,
    incident: {
      id: incident.id,
      source: incident.source,
      title: incident.title,
      service: incident.service,
      severity: incident.severity,
      status: incident.status,
      urgency: incident.urgency,
      incident_number: incident.number,
      created_at: incident.createdAt,
      acknowledged_at: incident.acknowledgedAt ?? firstAcknowledgement(pd.data?.log_entries ?? []),
      resolved_at: incident.resolvedAt,
      url: incident.url,
    },
    harvest: {
      harvester: `hindsight/${ENGINE_VERSION}`,
      harvested_at: now.toISOString(),
      window: { from: new Date(ctx.window.fromMs).toISOString(), to: new Date(ctx.window.toMs).toISOString() },
      deploy_window: { from: new Date(ctx.deployWindow.fromMs).toISOString(), to: new Date(ctx.deployWindow.toMs).toISOString() },
      sources: statuses,
      errors,
      truncated,
    },
    sources,
  };
  // One odd vendor record must not cost the whole post-mortem: it is left out and listed in
  // harvest.skipped, which the report shows among what the analysis could not see.
  return { bundle: readBundle(bundle).bundle, sources: statuses };
}
