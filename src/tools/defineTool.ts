// One definition per tool, consumed by both the MCP server (src/server) and the agent loop
// (src/agent), so the two cannot drift. Handlers get their dependencies injected.
import { z } from 'zod';
import type { Report } from '../core/report.js';
import type { IncidentStore } from '../store/incidentStore.js';
import type { FiledTicket, TicketDraft, TicketTarget } from '../tickets/tickets.js';

export type Toolset = 'context' | 'analysis' | 'history' | 'tickets';

export interface ToolDeps {
  store: IncidentStore;
  /** writes (filing tickets, posting) happen only when this is true; default false */
  writesEnabled: boolean;
  /** resolves a relative bundle path; defaults to the process working directory */
  cwd: string;
  /**
   * Where bundle_path may read: absent, anywhere this process can (a local stdio server); a
   * directory, only files inside it (relative paths resolve against it); null, nowhere (a shared
   * HTTP server without HINDSIGHT_HTTP_BUNDLE_DIR: callers pass an inline bundle or an incident id).
   */
  bundleRoot?: string | null;
  /** live harvesting by incident id, when vendor credentials are configured */
  harvest?: (incidentId: string) => Promise<import('../core/bundle.js').Bundle>;
  /** when harvest is absent: why live harvesting is off (e.g. which credentials are missing) */
  harvestUnavailable?: string;
  /**
   * Files ticket drafts for real (GitHub Issues or Jira, exactly once per marker); used only when
   * writesEnabled. Built from the configuration by `ticketDeps` (src/tickets/tickets.ts).
   */
  ticketFiler?: (report: Report, drafts: TicketDraft[]) => Promise<FiledTicket[]>;
  /** where ticketFiler would file this report's tickets; null when no target or credentials are configured */
  ticketTarget?: (report: Report) => TicketTarget | null;
  /** reads a past action item's ticket state (GitHub/Jira) for "Seen before"; absent: the post-mortem's own status */
  ticketStatus?: import('../history/service.js').TicketStatusReader;
}

/** Per-call context from the transport; absent in the agent loop. */
export interface ToolContext {
  /** asks the user to confirm a write; resolves false when declined (absent: no way to ask) */
  confirm?: (message: string) => Promise<boolean>;
  /** aborted when the client cancels the call: stop, and store nothing */
  signal?: AbortSignal;
  /** true once the call is cancelled; readable between two synchronous steps (a worker's flag) */
  cancelled?: () => boolean;
  /** reports progress when the client asked for it (a progress token); absent otherwise */
  progress?: (progress: number, total: number, message: string) => void;
}

/** A resource the result points at instead of carrying it (MCP resource_link content). */
export interface ToolLink {
  uri: string;
  name: string;
  mimeType: string;
  description: string;
}

export interface ToolResult<O> {
  structured: O;
  /** short human-readable text for the MCP text content and the agent transcript */
  text: string;
  links?: ToolLink[];
}

export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  /** true for tools that never write anything external; a tool that is destructive at run time is not read-only then */
  readOnly: boolean;
  /** may destroy or overwrite external state; a function decides from the server's deps (e.g. writes enabled) */
  destructive?: boolean | ((deps: ToolDeps) => boolean);
  /** reaches systems outside the server (e.g. harvests live from the vendors); a destructive tool always does */
  openWorld?: (deps: ToolDeps) => boolean;
  inputSchema: I;
  outputSchema: O;
  handler: (input: z.infer<z.ZodObject<I>>, deps: ToolDeps, ctx?: ToolContext) => Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
}

/** A failure the caller can act on (unknown incident, bad bundle): reported as a tool error. */
export class ToolError extends Error {
  override name = 'ToolError';
}

/** Thrown by a tool that stops because its call was cancelled. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** Stops the call here if it was cancelled: checked before anything is stored. */
export function stopIfCancelled(ctx: ToolContext | undefined): void {
  if (ctx?.cancelled?.() || ctx?.signal?.aborted) throw new CancelledError('cancelled by the client');
}

/** The destructive flag for these deps (the MCP destructiveHint). */
export function isDestructive(tool: Pick<ToolDefinition, 'destructive'>, deps: ToolDeps): boolean {
  return typeof tool.destructive === 'function' ? tool.destructive(deps) : tool.destructive ?? false;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

/**
 * A tool's input and output schemas as JSON Schema 2020-12 (the MCP default dialect): inputs as a
 * caller writes them (defaulted fields optional), outputs as the tool produces them.
 */
export function toolJsonSchemas(tool: Pick<ToolDefinition, 'inputSchema' | 'outputSchema'>): { inputSchema: Record<string, unknown>; outputSchema: Record<string, unknown> } {
  return {
    inputSchema: z.toJSONSchema(z.object(tool.inputSchema), { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>,
    outputSchema: z.toJSONSchema(z.object(tool.outputSchema), { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>,
  };
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
