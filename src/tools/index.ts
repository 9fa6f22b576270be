// The tool registry: toolsets as plain data. Read tools are always on; write tools are listed
// but act only when writes are enabled.
import type { ToolDefinition, Toolset } from './defineTool.js';
import { buildTimeline } from './buildTimeline.js';
import { draftPostmortem } from './draftPostmortem.js';
import { fileTickets } from './fileTickets.js';
import { findTriggeringCommit } from './findTriggeringCommit.js';
import { getIncidentContext } from './getIncidentContext.js';
import { searchPastRcas } from './searchPastRcas.js';

export const TOOLS = [getIncidentContext, buildTimeline, findTriggeringCommit, searchPastRcas, fileTickets, draftPostmortem] as unknown as ToolDefinition[];

export const TOOLSETS: Record<Toolset, string[]> = {
  context: ['get_incident_context'],
  analysis: ['build_timeline', 'find_triggering_commit', 'draft_postmortem'],
  history: ['search_past_rcas'],
  tickets: ['file_tickets'],
};

export function toolByName(name: string): ToolDefinition | undefined {
  return TOOLS.find((t) => t.name === name);
}

export { ToolError, parseToolInput, toolJsonSchemas, type ToolDeps, type ToolDefinition } from './defineTool.js';
