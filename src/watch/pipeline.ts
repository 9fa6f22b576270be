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
import { draftTickets, ticketDeps, type FiledTicket } from '../tickets/tickets.js';
import type { Logger } from './logger.js';
import type { Pause } from './testHooks.js';
import type { WatchedIncident, WatchStore } from './watchStore.js';

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

function storedReport(deps: PipelineDeps, id: string): { report: Report; markdown: string } {
  const stored = deps.incidents.getReport(id);
  if (stored) return stored;
  const bundle = deps.incidents.getBundle(id);
  if (!bundle) throw new Error(`no stored bundle for ${id}`);
  const report = buildReport(analyzeBundle(bundle));
  return { report, markdown: renderMarkdown(report) };
}

async function draft(deps: PipelineDeps, id: string, feedback?: string[]): Promise<{ report: Report; markdown: string; engine: string }> {
  const llm = deps.config.autonomous.llm;
  if (llm.apiKey) {
    const result = await draftWithClaude(id, toolDeps(deps), llm, { feedback });
    for (const note of result.notes) deps.log.info({ incident: id, stage: 'drafting', engine: result.engine }, note);
    return result;
  }
  const bundle = deps.incidents.getBundle(id);
  if (!bundle) throw new Error(`no stored bundle for ${id}`);
  const analysis = analyzeBundle(bundle);
  // past incidents this one repeats ("Seen before"), so the review post shows them
  const history = await historyReportOptions(deps.incidents, buildReport(analysis), ticketStatusReaderFor({ github: deps.config.credentials.github, jira: deps.config.autonomous.jira, timeoutMs: deps.config.http.timeoutMs }));
  const report = buildReport(analysis, history);
  return { report, markdown: renderMarkdown(report), engine: 'deterministic' };
}

export async function runStage(deps: PipelineDeps, incident: WatchedIncident): Promise<void> {
  const { config, store, log } = deps;
  const now = deps.now ?? Date.now;
  const at = { incident: incident.id, stage: incident.stage };
  const slack = config.credentials.slack;
  const review = config.autonomous.review;
  switch (incident.stage) {
    case 'seen': {
      const { bundle, sources } = await harvestIncident(incident.id, config, { log: (m) => log.debug(at, m), now: () => new Date(now()) });
      deps.incidents.saveBundle(bundle);
      store.advance(incident.id, 'harvested');
      log.info({ ...at, sources }, 'harvested');
      return;
    }
    case 'harvested': {
      const { report, markdown, engine } = await draft(deps, incident.id);
      deps.incidents.saveReport(report, markdown);
      store.advance(incident.id, 'drafted', { engine });
      log.info({ ...at, engine, trigger: report.trigger ? `${report.trigger.repo}#${report.trigger.deployment_id}` : null }, 'drafted');
      return;
    }
    case 'drafted': {
      if (!deps.writesEnabled) {
        log.info(at, `dry run: the draft is ready; it would be posted to ${review.channel} (enable writes with --apply or HINDSIGHT_WRITE=1)`);
        store.snooze(incident.id, now() + config.autonomous.watch.intervalMs * 10);
        return;
      }
      if (!slack) throw new NotConfigured('SLACK_BOT_TOKEN is not set: cannot post the draft for review');
      const { report, markdown } = storedReport(deps, incident.id);
      const existing = incident.slackTs && incident.slackChannel ? { channel: incident.slackChannel, ts: incident.slackTs } : null;
      // The draft cannot be older than the incident's first sighting; an hour of margin for the
      // difference between this host's clock and Slack's.
      const since = ((incident.createdAt - 3600_000) / 1000).toFixed(6);
      const post = await publishDraft(slack, report, markdown, { channel: review.channel, existing, policy: config.http, since });
      await deps.pause?.('published', { incident: incident.id, stage: incident.stage });
      store.advance(incident.id, 'posted', { slackChannel: post.channel, slackTs: post.ts });
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
        store.advance(incident.id, 'approved');
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
          // Only the feedback this revision saw counts as addressed; replies that arrived while it
          // was being drafted stay open for the next round.
          await publishDraft(slack, revised.report, revised.markdown, { channel: post.channel, existing: post, policy: config.http, addressedFeedbackTs: decision.lastFeedbackTs });
          log.info({ ...at, engine: revised.engine }, 'revised the draft after feedback and updated the review message');
        } else {
          log.info(at, 'feedback recorded (deterministic engine: the draft is not rewritten)');
        }
        store.snooze(incident.id, now() + config.autonomous.watch.intervalMs, { feedbackTs: decision.lastFeedbackTs! });
        return;
      }
      store.snooze(incident.id, now() + config.autonomous.watch.intervalMs);
      return;
    }
    case 'approved': {
      if (!deps.writesEnabled) {
        log.info(at, 'dry run: approved; tickets would be filed now (enable writes with --apply or HINDSIGHT_WRITE=1)');
        store.snooze(incident.id, now() + config.autonomous.watch.intervalMs * 10);
        return;
      }
      const { report } = storedReport(deps, incident.id);
      const tickets = ticketDeps(config, { log: (m) => log.debug(at, m) });
      if (!tickets.ticketTarget(report)) {
        throw new NotConfigured('no ticket target with credentials (tickets.github_repo + GITHUB_TOKEN, or tickets.jira_project + JIRA_*)');
      }
      const filed: FiledTicket[] = await tickets.ticketFiler(report, draftTickets(report));
      store.advance(incident.id, 'ticketed', { tickets: filed.map((t) => ({ marker: t.marker, key: t.key, url: t.url, status: t.status })) });
      log.info({ ...at, tickets: filed.map((t) => `${t.key} (${t.status})`) }, 'tickets filed');
      return;
    }
    default:
      return;
  }
}

/** Runs one due stage; failures back off and, after max attempts, park the incident as failed. */
export async function step(deps: PipelineDeps, incident: WatchedIncident): Promise<void> {
  try {
    await runStage(deps, incident);
  } catch (err) {
    const message = redactSecrets((err as Error)?.message ?? String(err));
    const after = deps.store.fail(incident.id, message, {
      maxAttempts: err instanceof NotConfigured ? Math.max(deps.config.autonomous.watch.maxAttempts, 1000) : deps.config.autonomous.watch.maxAttempts,
      baseDelayMs: Math.min(60_000, Math.max(1000, deps.config.autonomous.watch.intervalMs / 2)),
    }, (deps.now ?? Date.now)());
    deps.log[after.stage === 'failed' ? 'error' : 'warn'](
      { incident: incident.id, stage: incident.stage, attempts: after.attempts, retryAt: new Date(after.nextAttemptAt).toISOString() },
      after.stage === 'failed' ? `gave up: ${message}` : `will retry: ${message}`,
    );
  }
}
