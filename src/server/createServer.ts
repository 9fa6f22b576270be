// createServer(deps): the MCP server, independent of any transport (stdio and Streamable HTTP
// both build one from a factory: once per connection, or once per HTTP request).
import { McpServer, ProtocolError, ProtocolErrorCode, type AuthInfo, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { redactSecrets } from '../core/redact.js';
import { loadPromptFiles, renderPrompt, type PromptFile } from '../io/promptFiles.js';
import { DEFAULT_MAX_RESOURCE_BYTES, registerResources } from '../resources/index.js';
import { TOOLS, ToolError, parseToolInput, toolByName, toolJsonSchemas, type ToolDefinition, type ToolDeps } from '../tools/index.js';
import { CancelledError, isDestructive, type ToolContext } from '../tools/defineTool.js';
import type { WorkRunner } from './workerPool.js';

export { DEFAULT_MAX_RESOURCE_BYTES } from '../resources/index.js';
import { ENGINE_VERSION } from '../core/analyze.js';

/** how long a confirmation question may wait for the user */
const CONFIRM_TIMEOUT_MS = 10 * 60_000;

/** OAuth scopes of the HTTP server: every call needs read; a call that files for real needs write too. */
export const READ_SCOPE = 'hindsight:read';
export const WRITE_SCOPE = 'hindsight:write';

/** An error message quotes at most this much of what the caller sent. */
const QUOTE_LIMIT = 200;

export function quoteInput(text: string): string {
  return text.length <= QUOTE_LIMIT ? text : `${text.slice(0, QUOTE_LIMIT)}… (${text.length} characters)`;
}

/** An error never carries more than this: a huge argument is quoted, not echoed back. */
const MAX_ERROR_CHARS = 1000;

export function toolErrorResult(message: string): CallToolResult {
  const text = message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}… (error message cut at ${MAX_ERROR_CHARS} characters)` : message;
  return { isError: true, content: [{ type: 'text', text: redactSecrets(text) }] };
}

export interface ServerOptions {
  /** resources larger than this are refused (default DEFAULT_MAX_RESOURCE_BYTES) */
  maxResourceBytes?: number;
  /** runs tool calls and resource reads off the main thread (worker pool); absent: in process */
  runner?: WorkRunner;
}

let promptFiles: PromptFile[] | null = null;

export function createServer(deps: ToolDeps, options: ServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'hindsight', version: ENGINE_VERSION },
    { instructions: 'Start with get_incident_context (bundle_path or bundle) to load an incident, then pass its incident_id to the other tools.' },
  );

  /**
   * Asks the user through MCP elicitation (form mode) when the client supports it; without that
   * capability there is no way to ask, and the write proceeds (the server enabled writes).
   */
  const confirm = async (message: string, ctx: ServerContext): Promise<boolean> => {
    if (!server.server.getClientCapabilities()?.elicitation?.form) return true;
    // MCP 2026-07-28 has no server-to-client requests: a stateless HTTP call cannot be asked, and
    // there the token's hindsight:write scope is the consent (checked before the call runs)
    if (ctx.http) return true;
    const answer = await ctx.mcpReq.elicitInput(
      {
        mode: 'form',
        message,
        requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'File these tickets?' } }, required: ['confirm'] },
      },
      { timeout: CONFIRM_TIMEOUT_MS },
    );
    return answer.action === 'accept' && answer.content?.confirm === true;
  };

  const annotationsOf = (tool: ToolDefinition) => {
    // a tool that may write (e.g. file_tickets with writes enabled) is destructive and not read-only
    const destructive = isDestructive(tool, deps);
    const openWorld = destructive || (tool.openWorld?.(deps) ?? false);
    return { title: tool.title, readOnlyHint: tool.readOnly && !destructive, destructiveHint: destructive, idempotentHint: true, openWorldHint: openWorld };
  };

  const runTool = async (tool: ToolDefinition, rawArgs: unknown, mcp: ServerContext, progressToken: string | number | undefined): Promise<CallToolResult> => {
    try {
      const args = parseToolInput(tool, rawArgs);
      const ctx: ToolContext = {
        confirm: (message) => confirm(message, mcp),
        signal: mcp.mcpReq.signal,
        ...(progressToken !== undefined
          ? {
              progress: (progress: number, total: number, message: string) =>
                void mcp.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total, message } }).catch(() => undefined),
            }
          : {}),
      };
      const result = options.runner ? await options.runner.runTool(tool, args, ctx) : await tool.handler(args as never, deps, ctx);
      const structured = z.object(tool.outputSchema).safeParse(result.structured);
      if (!structured.success) {
        const issue = structured.error.issues[0]!;
        return toolErrorResult(`internal error in ${tool.name}: output ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      const links = (result.links ?? []).map((l) => ({ type: 'resource_link' as const, ...l }));
      return { content: [{ type: 'text', text: result.text }, ...links], structuredContent: result.structured as Record<string, unknown> };
    } catch (err) {
      if (err instanceof CancelledError) return toolErrorResult(`${tool.name} was cancelled; nothing was stored`);
      if (err instanceof ToolError) return toolErrorResult(err.message);
      return toolErrorResult(`internal error in ${tool.name}: ${(err as Error).message}`);
    }
  };

  // The SDK's McpServer would publish draft-07 schemas and answer an unknown tool with a tool
  // result; the low-level handlers publish JSON Schema 2020-12 and make an unknown tool a
  // JSON-RPC error (-32602), as the spec says.
  server.server.registerCapabilities({ tools: { listChanged: false } });
  server.server.setRequestHandler('tools/list', () => ({
    tools: TOOLS.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      ...toolJsonSchemas(tool),
      annotations: annotationsOf(tool),
    })) as never,
  }));
  server.server.setRequestHandler('tools/call', async (request, ctx) => {
    const tool = toolByName(request.params.name);
    if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${quoteInput(request.params.name)}`, { name: quoteInput(request.params.name) });
    const token = request.params._meta?.progressToken;
    return runTool(tool, request.params.arguments, ctx, typeof token === 'string' || typeof token === 'number' ? token : undefined);
  });

  // Over HTTP with OAuth, a tool call that would write (file_tickets with writes enabled) needs
  // hindsight:write; the SDK answers 403 insufficient_scope before the call runs.
  const sdkScopeChallenge = server.resolveScopeChallenge;
  server.resolveScopeChallenge = (context) => {
    if (context.request.method === 'tools/call' && context.authInfo) {
      const tool = toolByName(String((context.request.params as { name?: unknown } | undefined)?.name ?? ''));
      if (tool && isDestructive(tool, deps) && !hasScope(context.authInfo, WRITE_SCOPE)) {
        return { scopes: [READ_SCOPE, WRITE_SCOPE], errorDescription: `${tool.name} files tickets on this server and needs the ${WRITE_SCOPE} scope` };
      }
    }
    return sdkScopeChallenge(context);
  };

  registerResources(server, deps, {
    maxResourceBytes: options.maxResourceBytes ?? DEFAULT_MAX_RESOURCE_BYTES,
    ...(options.runner ? { read: (name: string, id: string, signal?: AbortSignal) => options.runner!.readResource(name, id, signal) } : {}),
  });

  // prompts/list and prompts/get by hand (as tools are): an unknown name is quoted, not echoed whole
  promptFiles ??= loadPromptFiles();
  const prompts = promptFiles;
  server.server.registerCapabilities({ prompts: { listChanged: false } });
  server.server.setRequestHandler('prompts/list', () => ({
    prompts: prompts.map((p) => ({ name: p.name, title: p.title, description: p.description, arguments: p.arguments.map((a) => ({ name: a.name, description: a.description, required: a.required })) })),
  }));
  server.server.setRequestHandler('prompts/get', (request) => {
    const prompt = prompts.find((p) => p.name === request.params.name);
    if (!prompt) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${quoteInput(request.params.name)}`, { name: quoteInput(request.params.name) });
    const args = (request.params.arguments ?? {}) as Record<string, string | undefined>;
    const missing = prompt.arguments.find((a) => a.required && (typeof args[a.name] !== 'string' || args[a.name] === ''));
    if (missing) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `prompt ${prompt.name}: missing required argument ${missing.name}`);
    return { description: prompt.description, messages: [{ role: 'user' as const, content: { type: 'text' as const, text: renderPrompt(prompt, args) } }] };
  });
  return server;
}

function hasScope(auth: AuthInfo, scope: string): boolean {
  return auth.scopes.includes(scope);
}
