// createServer(deps): the MCP server, independent of any transport.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { redactSecrets } from '../core/redact.js';
import { loadPromptFiles, renderPrompt } from '../io/promptFiles.js';
import { DEFAULT_MAX_RESOURCE_BYTES, registerResources, resourceNotFound } from '../resources/index.js';
import { TOOLS, ToolError, parseToolInput, toolByName, toolJsonSchemas, type ToolDefinition, type ToolDeps } from '../tools/index.js';
import { isDestructive, type ToolContext } from '../tools/defineTool.js';

export { DEFAULT_MAX_RESOURCE_BYTES } from '../resources/index.js';
import { ENGINE_VERSION } from '../core/analyze.js';

/** how long a confirmation question may wait for the user */
const CONFIRM_TIMEOUT_MS = 10 * 60_000;

export function toolErrorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: redactSecrets(message) }] };
}

export interface ServerOptions {
  /** resources larger than this are refused (default DEFAULT_MAX_RESOURCE_BYTES) */
  maxResourceBytes?: number;
}

type RawRequestHandler = (request: { params?: { uri?: unknown } }, extra: unknown) => Promise<unknown>;

/**
 * The SDK v1 answers a resource URI that matches no resource or template with -32602; the spec's
 * answer is -32002 (Resource not found) with the URI in `data`. The SDK has no hook for this, so
 * its registered resources/read handler is wrapped.
 */
function answerUnmatchedResourcesNotFound(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, RawRequestHandler> })._requestHandlers;
  const read = handlers?.get('resources/read');
  if (!handlers || !read) throw new Error('MCP SDK: no resources/read handler to wrap (SDK internals changed?)');
  handlers.set('resources/read', async (request, extra) => {
    const uri = String(request.params?.uri ?? '');
    try {
      return await read(request, extra);
    } catch (err) {
      if (err instanceof McpError && err.code === ErrorCode.InvalidParams && err.message.endsWith(' not found')) throw resourceNotFound(uri, 'no resource matches this URI');
      if ((err as { code?: unknown }).code === 'ERR_INVALID_URL') throw new McpError(ErrorCode.InvalidParams, `invalid resource URI: "${uri}"`, { uri });
      throw err;
    }
  });
}

export function createServer(deps: ToolDeps, options: ServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'hindsight', version: ENGINE_VERSION },
    { instructions: 'Start with get_incident_context (bundle_path or bundle) to load an incident, then pass its incident_id to the other tools.' },
  );

  /**
   * Asks the user through MCP elicitation (form mode) when the client supports it; without that
   * capability there is no way to ask, and the write proceeds (the server enabled writes).
   */
  const confirm = async (message: string, requestId: RequestId | undefined): Promise<boolean> => {
    if (!server.server.getClientCapabilities()?.elicitation?.form) return true;
    const answer = await server.server.elicitInput(
      {
        mode: 'form',
        message,
        requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'File these tickets?' } }, required: ['confirm'] },
      },
      { relatedRequestId: requestId, timeout: CONFIRM_TIMEOUT_MS },
    );
    return answer.action === 'accept' && answer.content?.confirm === true;
  };

  const annotationsOf = (tool: ToolDefinition) => {
    // a tool that may write (e.g. file_tickets with writes enabled) is destructive and not read-only
    const destructive = isDestructive(tool, deps);
    return { title: tool.title, readOnlyHint: tool.readOnly && !destructive, destructiveHint: destructive, idempotentHint: true, openWorldHint: destructive };
  };

  const runTool = async (tool: ToolDefinition, rawArgs: unknown, requestId: RequestId): Promise<CallToolResult> => {
    try {
      const args = parseToolInput(tool, rawArgs);
      const ctx: ToolContext = { confirm: (message) => confirm(message, requestId) };
      const result = await tool.handler(args as never, deps, ctx);
      const structured = z.object(tool.outputSchema).safeParse(result.structured);
      if (!structured.success) {
        const issue = structured.error.issues[0]!;
        return toolErrorResult(`internal error in ${tool.name}: output ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      return { content: [{ type: 'text', text: result.text }], structuredContent: result.structured as Record<string, unknown> };
    } catch (err) {
      if (err instanceof ToolError) return toolErrorResult(err.message);
      return toolErrorResult(`internal error in ${tool.name}: ${(err as Error).message}`);
    }
  };

  // The SDK's McpServer would publish draft-07 schemas and answer an unknown tool with a tool
  // result; the low-level handlers publish JSON Schema 2020-12 and make an unknown tool a
  // JSON-RPC error (-32602), as the spec says.
  server.server.registerCapabilities({ tools: { listChanged: false } });
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      ...toolJsonSchemas(tool),
      annotations: annotationsOf(tool),
    })) as never,
  }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = toolByName(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`, { name: request.params.name });
    return runTool(tool, request.params.arguments, extra.requestId);
  });

  registerResources(server, deps, { maxResourceBytes: options.maxResourceBytes ?? DEFAULT_MAX_RESOURCE_BYTES });
  answerUnmatchedResourcesNotFound(server);

  for (const prompt of loadPromptFiles()) {
    const argsSchema: Record<string, z.ZodType<string | undefined>> = {};
    for (const a of prompt.arguments) argsSchema[a.name] = a.required ? z.string().describe(a.description) : z.string().optional().describe(a.description);
    server.registerPrompt(prompt.name, { title: prompt.title, description: prompt.description, argsSchema: argsSchema as never }, ((args: Record<string, string | undefined>) => ({
      messages: [{ role: 'user', content: { type: 'text', text: renderPrompt(prompt, args) } }],
    })) as never);
  }
  return server;
}
