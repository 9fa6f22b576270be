import { realpathSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { z } from 'zod';
import { BundleError, readBundle, skippedOf, type Bundle } from '../core/bundle.js';
import { collectFacts } from '../core/facts.js';
import { withholdText } from '../core/instructions.js';
import { Redactor } from '../core/redact.js';
import { formatMs } from '../core/time.js';
import { InputError, readBundleFile } from '../io/files.js';
import { defineTool, stopIfCancelled, ToolError, type ToolDeps } from './defineTool.js';

/** The file bundle_path names, inside deps.bundleRoot when the server confines it (symbolic links resolved). */
function bundleFilePath(given: string, deps: ToolDeps): string {
  if (deps.bundleRoot === undefined) return isAbsolute(given) ? given : resolve(deps.cwd, given);
  if (deps.bundleRoot === null) {
    throw new ToolError('bundle_path is off on this shared server (it would read the server\'s own files): pass the bundle inline as `bundle`, or an incident_id to harvest; an operator can allow a directory with HINDSIGHT_HTTP_BUNDLE_DIR');
  }
  const root = realpathSync(deps.bundleRoot);
  const wanted = resolve(root, given);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new ToolError(`bundle_path: no such file under the server's bundle directory: ${given.slice(0, 200)}`);
  }
  if (real !== root && !real.startsWith(root + sep)) throw new ToolError(`bundle_path: outside the server's bundle directory (HINDSIGHT_HTTP_BUNDLE_DIR): ${given.slice(0, 200)}`);
  return real;
}

export const getIncidentContext = defineTool({
  name: 'get_incident_context',
  title: 'Get incident context',
  description:
    'Loads an incident\'s context bundle (from a file path or inline JSON), stores it locally keyed by incident id, and returns a compact summary. ' +
    'Later tools take only the incident_id. With only incident_id, returns the summary of an incident already stored.',
  toolset: 'context',
  readOnly: false,
  openWorld: (deps) => deps.harvest !== undefined,
  inputSchema: {
    bundle_path: z.string().optional().describe('Path to a context bundle v1 JSON file (absolute, or relative to the server\'s working directory)'),
    bundle: z.record(z.string(), z.unknown()).optional().describe('An inline context bundle v1 object, instead of bundle_path'),
    incident_id: z.string().optional().describe('Incident id: one stored by an earlier call, or a PagerDuty/Opsgenie id to harvest live'),
    refresh: z.boolean().default(false).describe('With incident_id: harvest again even if the incident is already stored'),
  },
  outputSchema: {
    incident_id: z.string(),
    title: z.string(),
    service: z.string().nullable(),
    severity: z.string().nullable(),
    created_at: z.string(),
    resolved_at: z.string().nullable(),
    counts: z.object({
      pagerduty_log_entries: z.number(),
      slack_messages: z.number(),
      repositories: z.number(),
      deployments: z.number(),
      commits: z.number(),
      metric_series: z.number(),
      log_lines: z.number(),
      log_signatures: z.number(),
    }),
    repositories: z.array(z.string()),
    data_gaps: z.array(z.string()),
    stored: z.boolean(),
  },
  async handler(input, deps, ctx) {
    const given = [input.bundle_path, input.bundle, input.incident_id].filter((v) => v !== undefined).length;
    if (input.incident_id !== undefined && (input.bundle_path !== undefined || input.bundle !== undefined)) throw new ToolError('pass incident_id alone, or a bundle');
    if (given === 0) throw new ToolError('pass one of bundle_path, bundle or incident_id');
    if (input.bundle_path !== undefined && input.bundle !== undefined) throw new ToolError('pass bundle_path or bundle, not both');
    let bundle: Bundle;
    let stored = false;
    const step = (n: number, message: string) => ctx?.progress?.(n, 3, message);
    try {
      if (input.bundle_path !== undefined) {
        step(0, 'reading and parsing the bundle');
        bundle = readBundleFile(bundleFilePath(input.bundle_path, deps));
      } else if (input.bundle !== undefined) {
        bundle = readBundle(input.bundle).bundle;
      } else {
        if (input.refresh && !deps.harvest) {
          const stored = deps.store.bundleBytes(input.incident_id!) !== null;
          throw new ToolError(
            `cannot refresh incident "${input.incident_id}": refreshing harvests it again from the vendors and needs their credentials, ` +
              `but ${deps.harvestUnavailable ?? 'live harvesting is not configured'}` +
              (stored ? '; the stored copy is available without refresh' : ''),
          );
        }
        const found = input.refresh ? null : deps.store.getBundle(input.incident_id!);
        if (found) bundle = found;
        else if (deps.harvest) {
          step(0, 'harvesting the incident from the vendors');
          try {
            bundle = await deps.harvest(input.incident_id!);
          } catch (err) {
            throw new ToolError(`could not harvest incident "${input.incident_id}": ${(err as Error).message}`);
          }
          step(1, 'harvested; storing');
          stopIfCancelled(ctx);
          deps.store.saveBundle(bundle);
          stored = true;
        } else throw new ToolError(`unknown incident "${input.incident_id}": pass bundle_path or bundle to load it, or configure vendor credentials to harvest it`);
      }
    } catch (err) {
      if (err instanceof InputError) throw new ToolError(err.message);
      if (err instanceof BundleError) throw new ToolError(`invalid bundle: ${err.message}`);
      throw err;
    }
    if (input.bundle_path !== undefined || input.bundle !== undefined) {
      step(1, 'validated; storing');
      stopIfCancelled(ctx);
      deps.store.saveBundle(bundle);
      stored = true;
    }
    step(2, 'summarising');
    const facts = collectFacts(bundle);
    const s = bundle.sources ?? {};
    const repos = s.github?.repos ?? [];
    const summary = {
      incident_id: facts.id,
      title: withholdText(facts.title),
      service: facts.service,
      severity: facts.severity,
      created_at: formatMs(facts.createdMs),
      resolved_at: facts.resolvedMs !== null ? formatMs(facts.resolvedMs) : null,
      counts: {
        pagerduty_log_entries: s.pagerduty?.log_entries?.length ?? 0,
        slack_messages: s.slack?.messages?.length ?? 0,
        repositories: repos.length,
        deployments: facts.deployments.length,
        commits: repos.reduce((n, r) => n + (r.commits?.length ?? 0), 0),
        metric_series: facts.series.length,
        log_lines: facts.logLineCount,
        log_signatures: facts.logSignatures.length,
      },
      repositories: facts.repos,
      data_gaps: facts.dataGaps,
      stored,
    };
    const safe = new Redactor(facts.people.aliases()).redactDeep(summary);
    step(3, 'done');
    const c = safe.counts;
    const leftOut = skippedOf(bundle).reduce((n, k) => n + k.count, 0);
    return {
      structured: safe,
      text:
        `Incident ${safe.incident_id}: ${safe.title} (${safe.service ?? 'service unknown'}, ${safe.severity ?? 'no severity'}), opened ${safe.created_at}.\n` +
        `${c.deployments} deployments in ${c.repositories} repos, ${c.metric_series} metric series, ${c.log_lines} log lines (${c.log_signatures} signatures), ${c.slack_messages} chat messages.` +
        (leftOut ? ` ${leftOut} malformed ${leftOut === 1 ? 'element was' : 'elements were'} left out (see data_gaps).` : '') +
        (stored ? ' Stored; pass incident_id to the other tools.' : ''),
    };
  },
});
