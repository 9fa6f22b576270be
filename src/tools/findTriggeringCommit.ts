import { z } from 'zod';
import { triggerOf } from '../core/analyze.js';
import { candidateLabel, ROLE_LABEL, triggerLabel } from '../core/report.js';
import { defineTool } from './defineTool.js';
import { analysisOf } from './incidentAnalysis.js';

export const findTriggeringCommit = defineTool({
  name: 'find_triggering_commit',
  title: 'Find the triggering commit',
  description:
    'Ranks every change that went live before the first anomaly (GitHub deployments in any repository and any production environment, and change events recorded outside git: PagerDuty change events, Datadog deployment/config events) by the evidence linking its content to the failure: names the errors share with the diff, failure mode, new values, timing, an undo followed by recovery. ' +
    'Names the culprit commit, tells the trigger from a latent defect it exposed (candidate roles), or returns trigger null with the reason when no change is supported. Always returns the ranked candidates with reasons.',
  toolset: 'analysis',
  readOnly: true,
  inputSchema: {
    incident_id: z.string().describe('Incident id from get_incident_context'),
  },
  outputSchema: {
    incident_id: z.string(),
    trigger: z
      .object({
        kind: z.enum(['deployment', 'config_change', 'change_event']),
        repo: z.string().nullable(),
        deployment_id: z.union([z.number(), z.string()]).nullable(),
        sha: z.string().nullable(),
        change_event_id: z.string().optional(),
        confidence: z.number(),
        evidence: z.array(z.string()),
      })
      .nullable(),
    reason: z.string(),
    onset: z.string(),
    candidates: z.array(
      z.object({
        kind: z.enum(['deployment', 'config_change', 'change_event']),
        source: z.enum(['github', 'pagerduty', 'datadog']),
        repo: z.string().nullable(),
        sha: z.string().nullable(),
        deployment_id: z.union([z.number(), z.string()]).nullable(),
        change_event_id: z.string().optional(),
        score: z.number(),
        finished_at: z.string().nullable(),
        role: z.enum(['trigger', 'latent_defect', 'ruled_out']),
        ruled: z.enum(['in', 'out']),
        reasons: z.array(z.string()),
      }),
    ),
  },
  async handler(input, deps) {
    const analysis = analysisOf(input.incident_id, deps);
    const { trigger, candidates } = triggerOf(analysis.trigger);
    const result = analysis.redactor.redactDeep({
      incident_id: input.incident_id,
      trigger,
      reason: analysis.trigger.reason,
      onset: new Date(analysis.signals.anomalyOnsetMs).toISOString(),
      candidates,
    });
    const head = result.trigger
      ? `Trigger: ${triggerLabel(result.trigger)}${result.trigger.sha ? `, commit ${result.trigger.sha.slice(0, 12)}` : ''} (confidence ${result.trigger.confidence.toFixed(2)}).\n${result.trigger.evidence.map((e) => `- ${e}`).join('\n')}`
      : `No triggering change. ${result.reason}`;
    const list = result.candidates.slice(0, 8).map((c) => `${c.score.toFixed(2)} [${ROLE_LABEL[c.role]}] ${candidateLabel(c)}: ${c.reasons[0] ?? ''}`);
    return { structured: result, text: `${head}\n\nCandidates:\n${list.join('\n')}` };
  },
});
