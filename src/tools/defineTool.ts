// One definition per tool, consumed by both the MCP server (src/server) and the agent loop
// (src/agent), so the two cannot drift. Handlers get their dependencies injected.
import { z } from 'zod';
import type { IncidentStore } from '../store/incidentStore.js';

export type Toolset = 'context' | 'analysis' | 'history' | 'tickets';

export interface ToolDeps {
  store: IncidentStore;
  /** writes (filing tickets, posting) happen only when this is true; default false */
  writesEnabled: boolean;
  /** resolves a relative bundle path; defaults to the process working directory */
  cwd: string;
  /** live harvesting by incident id, when vendor credentials are configured */
  harvest?: (incidentId: string) => Promise<import('../core/bundle.js').Bundle>;
}

export interface ToolResult<O> {
  structured: O;
  /** short human-readable text for the MCP text content and the agent transcript */
  text: string;
}

export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  readOnly: boolean;
  destructive?: boolean;
  inputSchema: I;
  outputSchema: O;
  handler: (input: z.infer<z.ZodObject<I>>, deps: ToolDeps) => Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
}

/** A failure the caller can act on (unknown incident, bad bundle): reported as a tool error. */
export class ToolError extends Error {
  override name = 'ToolError';
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

/** Validates raw arguments against a tool's input schema; the agent loop uses this path. */
export function parseToolInput<I extends z.ZodRawShape>(tool: ToolDefinition<I, z.ZodRawShape>, raw: unknown): z.infer<z.ZodObject<I>> {
  const result = z.object(tool.inputSchema).safeParse(raw ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ToolError(`invalid arguments for ${tool.name}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}
