// One incident through the autonomous pipeline, one stage at a time:
//   seen -> harvested -> drafted -> posted -> approved -> ticketed
// Each stage's result is recorded before the next starts (the checkpoint), and every external
// effect is idempotent on its own (the Slack post is found again by its metadata, tickets by their
// marker), so a process killed anywhere resumes without losing or duplicating anything.
import { analyzeBundle, buildReport } from '../core/analyze.js';
import { renderMarkdown } from '../core/markdown.js';
import { redactSecrets } from '../core/redact.js';
import type { Report } from '../core/report.js';
import type { HarvestConfig } from '../harvest/config.js';
import { harvestIncident } from '../harvest/harvest.js';
import { historyReportOptions } from '../history/service.js';
import { ticketStatusReaderFor } from '../history/ticketStatus.js';
import type { IncidentStore } from '../store/incidentStore.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { draftWithClaude } from '../agent/llmDraft.js';
import { publishDraft, readDecision } from '../review/slackReview.js';
import { reviewVisualsOfBundle } from '../review/chartPng.js';
import { draftTickets, ticketDeps, type FiledTicket } from '../tickets/tickets.js';
import type { Logger } from './logger.js';
import type { Pause } from './testHooks.js';
import { LeaseLost, type Claim, type WatchStore } from './watchStore.js';
import type { Bundle } from '../core/bundle.js';

export interface PipelineDeps {
  config: HarvestConfig;
  store: WatchStore;
  incidents: IncidentStore;
  log: Logger;
  /** --apply or HINDSIGHT_WRITE=1: post to Slack and file tickets for real */
  writesEnabled: boolean;
  now?: () => number;
  /** test-only pause points (testHooks.ts) */
  pause?: Pause;
}

/** A step that cannot succeed until someone changes the configuration. */
class NotConfigured extends Error {}

function toolDeps(deps: PipelineDeps): ToolDeps {
  return { store: deps.incidents, writesEnabled: false, cwd: process.cwd() };
}

// With a shared store (several replicas) the bundle and the draft are read from it: the replica
// running this stage may not be the one that ran the earlier ones. They are also put in the local
// incident store, which the Claude drafting tools read.
async function storedBundle(deps: PipelineDeps, id: string): Promise<Bundle> {
  if (deps.store.sharesArtifacts) {
    const shared = (await deps.store.artifacts(id)).bundle;
    if (shared) {
      deps.incidents.saveBundle(shared);
      return shared;
    }
  }
  const bundle = deps.incidents.getBundle(id);
  if (!bundle) throw new Error(`no stored bundle for ${id}`);
  return bundle;
}

async function storedReport(deps: PipelineDeps, id: string): Promise<{ report: Report; markdown: string }> {
  if (deps.store.sharesArtifacts) {
    const shared = (await deps.store.artifacts(id)).report;
    if (shared) {
      deps.incidents.saveReport(shared.report, shared.markdown);
      return shared;
    }
  }
  const stored = deps.incidents.getReport(id);
  if (stored) return stored;
  const report = buildReport(analyzeBundle(await storedBundle(deps, id)));
  return { report, markdown: renderMarkdown(report) };
}

async function draft(deps: PipelineDeps, id: string, feedback?: string[]): Promise<{ report: Report; markdown: string; engine: string }> {
  const llm = deps.config.autonomous.llm;
  const bundle = await storedBundle(deps, id);
  if (llm.apiKey) {
    const result = await draftWithClaude(id, toolDeps(deps), llm, { feedback });
    for (const note of result.notes) deps.log.info({ incident: id, stage: 'drafting', engine: result.engine }, note);
    return result;
  }
  const analysis = analyzeBundle(bundle);
  // past incidents this one repeats ("Seen before"), so the review post shows them
  const history = await historyReportOptions(deps.incidents, buildReport(analysis), ticketStatusReaderFor({ github: deps.config.credentials.github, jira: deps.config.autonomous.jira, timeoutMs: deps.config.http.timeoutMs }));
  const report = buildReport(analysis, history);
  return { report, markdown: renderMarkdown(report), engine: 'deterministic' };
}

/** Runs the claimed incident's current stage; every write of its outcome carries the claim's fencing token. */
export async function runStage(deps: PipelineDeps, claim: Claim): Promise<void> {
  const { config, store, log } = deps;
  const { incident, token } = claim;
  const now = deps.now ?? Date.now;
  const at = { incident: incident.id, stage: incident.stage };
  const slack = config.credentials.slack;
  const review = config.autonomous.review;
  switch (incident.stage) {
    case 'seen': {
      const { bundle, sources } = await harvestIncident(incident.id, config, { log: (m) => log.debug(at, m), now: () => new Date(now()) });
      deps.incidents.saveBundle(bundle);
      await store.saveArtifacts(incident.id, { bundle }, now(), token);
      await store.advance(incident.id, 'harvested', {}, now(), token);
      log.info({ ...at, sources }, 'harvested');
      return;
    }
    case 'harvested': {
      const { report, markdown, engine } = await draft(deps, incident.id);
      deps.incidents.saveReport(report, markdown);
      await store.saveArtifacts(incident.id, { report: { report, markdown } }, now(), token);
      await store.advance(incident.id, 'drafted', { engine }, now(), token);
      log.info({ ...at, engine, trigger: report.trigger ? `${report.trigger.repo}#${report.trigger.deployment_id}` : null }, 'drafted');
      return;
    }
    case 'drafted': {
      if (!deps.writesEnabled) {
        log.info(at, `dry run: the draft is ready; it would be posted to ${review.channel} (enable writes with --apply or HINDSIGHT_WRITE=1)`);
        await store.snooze(incident.id, now() + config.autonomous.watch.intervalMs * 10, {}, now(), token);
        return;
      }
      if (!slack) throw new NotConfigured('SLACK_BOT_TOKEN is not set: cannot post the draft for review');
      const { report, markdown } = await storedReport(deps, incident.id);
      const existing = incident.slackTs && incident.slackChannel ? { channel: incident.slackChannel, ts: incident.slackTs } : null;
      // The draft cannot be older than the incident's first sighting; an hour of margin for the
      // difference between this host's clock and Slack's.
      const since = ((incident.createdAt - 3600_000) / 1000).toFixed(6);
      // the leading metric's chart (PNG) and the HTML report go into the review thread too
      const visuals = reviewVisualsOfBundle(await storedBundle(deps, incident.id), report, (m) => log.warn(at, m));
      const post = await publishDraft(slack, report, markdown, { channel: review.channel, existing, policy: config.http, since, visuals });
      await deps.pause?.('published', { incident: incident.id, stage: incident.stage });
      await store.advance(incident.id, 'posted', { slackChannel: post.channel, slackTs: post.ts }, now(), token);
      log.info({ ...at, channel: post.channel, ts: post.ts, created: post.created, updated: post.updated }, 'posted for review');
      return;
    }
    case 'posted': {
      if (!slack) throw new NotConfigured('SLACK_BOT_TOKEN is not set: cannot read the review');
      if (review.approvers.length === 0 && review.approverGroups.length === 0) {
        log.warn(at, 'no approvers configured (review.approvers / HINDSIGHT_APPROVERS): nobody can approve this draft');
      }
      const post = { channel: incident.slackChannel!, ts: incident.slackTs! };
      const decision = await readDecision(slack, post, { users: review.approvers, groups: review.approverGroups }, config.http);
      if (decision.status === 'approved') {
        await store.advance(incident.id, 'approved', {}, now(), token);
        log.info(at, 'approved');
        return;
      }
      const fresh = decision.lastFeedbackTs !== null && (incident.feedbackTs === null || Number(decision.lastFeedbackTs) > Number(incident.feedbackTs));
      if (decision.status === 'changes_requested' && fresh) {
        if (config.autonomous.llm.apiKey) {
          const revised = await draft(deps, incident.id, decision.feedback);
          if (revised.engine !== 'llm') {
            // Keep the reviewed draft and the feedback open; the revision is retried with backoff.
            throw new Error('the revision could not be drafted with Claude; the current draft stays and the feedback will be retried');
          }
          deps.incidents.saveReport(revised.report, revised.markdown);
          await store.saveArtifacts(incident.id, { report: { report: revised.report, markdown: revised.markdown } }, now(), token);
          // Only the feedback this revision saw counts as addressed; replies that arrived while it
          // was being drafted stay open for the next round.
          await publishDraft(slack, revised.report, revised.markdown, { channel: post.channel, existing: post, policy: config.http, addressedFeedbackTs: decision.lastFeedbackTs });
          log.info({ ...at, engine: revised.engine }, 'revised the draft after feedback and updated the review message');
        } else {
          log.info(at, 'feedback recorded (deterministic engine: the draft is not rewritten)');
        }
        await store.snooze(incident.id, now() + config.autonomous.watch.intervalMs, { feedbackTs: decision.lastFeedbackTs! }, now(), token);
        return;
      }
      await store.snooze(incident.id, now() + config.autonomous.watch.intervalMs, {}, now(), token);
      return;
    }
    case 'approved': {
      if (!deps.writesEnabled) {
        log.info(at, 'dry run: approved; tickets would be filed now (enable writes with --apply or HINDSIGHT_WRITE=1)');
        await store.snooze(incident.id, now() + config.autonomous.watch.intervalMs * 10, {}, now(), token);
        return;
      }
      const { report } = await storedReport(deps, incident.id);
      const tickets = ticketDeps(config, { log: (m) => log.debug(at, m) });
      if (!tickets.ticketTarget(report)) {
        throw new NotConfigured('no ticket target with credentials (tickets.github_repo + GITHUB_TOKEN, or tickets.jira_project + JIRA_*)');
      }
      const filed: FiledTicket[] = await tickets.ticketFiler(report, draftTickets(report));
      await store.advance(incident.id, 'ticketed', { tickets: filed.map((t) => ({ marker: t.marker, key: t.key, url: t.url, status: t.status })) }, now(), token);
      log.info({ ...at, tickets: filed.map((t) => `${t.key} (${t.status})`) }, 'tickets filed');
      return;
    }
    default:
      return;
  }
}

/** Runs one due stage; failures back off and, after max attempts, park the incident as failed. */
export async function step(deps: PipelineDeps, claim: Claim): Promise<void> {
  const { incident } = claim;
  try {
    await runStage(deps, claim);
  } catch (err) {
    if (err instanceof LeaseLost) {
      deps.log.warn({ incident: incident.id, stage: incident.stage }, err.message);
      return;
    }
    const message = redactSecrets((err as Error)?.message ?? String(err));
    let after;
    try {
      after = await deps.store.fail(incident.id, message, {
        maxAttempts: err instanceof NotConfigured ? Math.max(deps.config.autonomous.watch.maxAttempts, 1000) : deps.config.autonomous.watch.maxAttempts,
        baseDelayMs: Math.min(60_000, Math.max(1000, deps.config.autonomous.watch.intervalMs / 2)),
      }, (deps.now ?? Date.now)(), claim.token);
    } catch (failErr) {
      if (failErr instanceof LeaseLost) {
        deps.log.warn({ incident: incident.id, stage: incident.stage }, `${failErr.message} (the attempt had failed: ${message})`);
        return;
      }
      throw failErr;
    }
    deps.log[after.stage === 'failed' ? 'error' : 'warn'](
      { incident: incident.id, stage: incident.stage, attempts: after.attempts, retryAt: new Date(after.nextAttemptAt).toISOString() },
      after.stage === 'failed' ? `gave up: ${message}` : `will retry: ${message}`,
    );
  }
}
