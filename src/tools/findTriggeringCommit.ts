import { z } from 'zod';
import { triggerOf } from '../core/analyze.js';
import { defineTool } from './defineTool.js';
import { analysisOf } from './incidentAnalysis.js';

export const findTriggeringCommit = defineTool({
  name: 'find_triggering_commit',
  title: 'Find the triggering commit',
  description:
    'Ranks every deployment (all repositories, code and config) that finished before the first anomaly by evidence: timing, whether the repo can affect the service, what the diff changes and whether it matches the errors. ' +
    'Names the culprit commit inside the chosen deployment, or returns trigger null with the reason when no change is supported. Always returns the ranked candidates with reasons.',
  toolset: 'analysis',
  readOnly: true,
  inputSchema: {
    incident_id: z.string().describe('Incident id from get_incident_context'),
  },
  outputSchema: {
    incident_id: z.string(),
    trigger: z
      .object({
        kind: z.enum(['deployment', 'config_change']),
        repo: z.string(),
        deployment_id: z.union([z.number(), z.string()]),
        sha: z.string(),
        confidence: z.number(),
        evidence: z.array(z.string()),
      })
      .nullable(),
    reason: z.string(),
    onset: z.string(),
    candidates: z.array(
      z.object({
        repo: z.string(),
        sha: z.string(),
        deployment_id: z.union([z.number(), z.string()]),
        score: z.number(),
        finished_at: z.string().nullable(),
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
      ? `Trigger: deployment ${result.trigger.deployment_id} of ${result.trigger.repo}, commit ${result.trigger.sha.slice(0, 12)} (confidence ${result.trigger.confidence.toFixed(2)}).\n${result.trigger.evidence.map((e) => `- ${e}`).join('\n')}`
      : `No triggering change. ${result.reason}`;
    const list = result.candidates.slice(0, 8).map((c) => `${c.score.toFixed(2)} ${c.repo} #${c.deployment_id} (${c.sha.slice(0, 7)}): ${c.reasons[0] ?? ''}`);
    return { structured: result, text: `${head}\n\nCandidates:\n${list.join('\n')}` };
  },
});
