// createServer(deps): the MCP server, independent of any transport.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { redactSecrets } from '../core/redact.js';
import { loadPromptFiles, renderPrompt } from '../io/promptFiles.js';
import { registerResources } from '../resources/index.js';
import { TOOLS, ToolError, type ToolDeps } from '../tools/index.js';
import { isDestructive, type ToolContext } from '../tools/defineTool.js';
import { ENGINE_VERSION } from '../core/analyze.js';

/** how long a confirmation question may wait for the user */
const CONFIRM_TIMEOUT_MS = 10 * 60_000;

export function toolErrorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: redactSecrets(message) }] };
}

export function createServer(deps: ToolDeps): McpServer {
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

  for (const tool of TOOLS) {
    // a tool that may write (e.g. file_tickets with writes enabled) is destructive and not read-only
    const destructive = isDestructive(tool, deps);
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: {
          title: tool.title,
          readOnlyHint: tool.readOnly && !destructive,
          destructiveHint: destructive,
          idempotentHint: true,
          openWorldHint: destructive,
        },
      },
      (async (args: Record<string, unknown>, extra?: { requestId?: RequestId }): Promise<CallToolResult> => {
        try {
          const ctx: ToolContext = { confirm: (message) => confirm(message, extra?.requestId) };
          const result = await tool.handler(args as never, deps, ctx);
          return { content: [{ type: 'text', text: result.text }], structuredContent: result.structured as Record<string, unknown> };
        } catch (err) {
          if (err instanceof ToolError) return toolErrorResult(err.message);
          return toolErrorResult(`internal error in ${tool.name}: ${(err as Error).message}`);
        }
      }) as never,
    );
  }

  registerResources(server, deps);

  for (const prompt of loadPromptFiles()) {
    const argsSchema: Record<string, z.ZodType<string | undefined>> = {};
    for (const a of prompt.arguments) argsSchema[a.name] = a.required ? z.string().describe(a.description) : z.string().optional().describe(a.description);
    server.registerPrompt(prompt.name, { title: prompt.title, description: prompt.description, argsSchema: argsSchema as never }, ((args: Record<string, string | undefined>) => ({
      messages: [{ role: 'user', content: { type: 'text', text: renderPrompt(prompt, args) } }],
    })) as never);
  }
  return server;
}
