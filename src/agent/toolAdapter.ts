// The agent loop's view of the tools: the same definitions the MCP server registers, exposed as
// JSON-schema tool specs plus a dispatcher that validates input and truncates output before it
// reaches the model.
import { z } from 'zod';
import { redactSecrets } from '../core/redact.js';
import { TOOLS, ToolError, parseToolInput, type ToolDeps } from '../tools/index.js';

export interface AgentToolSpec {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export const MAX_TOOL_OUTPUT_CHARS = 20_000;

export function agentToolSpecs(): AgentToolSpec[] {
  return TOOLS.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: z.toJSONSchema(z.object(t.inputSchema), { io: 'input' }) as Record<string, unknown>,
  }));
}

export function truncateForModel(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[truncated: ${text.length - max} more characters]`;
}

/**
 * Runs one tool call for the agent; failures come back as text the model can read. `maxChars` is
 * the output budget (the agent loop passes its configured `toolOutputChars`).
 */
export async function runAgentTool(name: string, input: unknown, deps: ToolDeps, maxChars = MAX_TOOL_OUTPUT_CHARS): Promise<{ ok: boolean; text: string }> {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) return { ok: false, text: `unknown tool "${name}"` };
  try {
    const result = await tool.handler(parseToolInput(tool, input), deps);
    return { ok: true, text: truncateForModel(redactSecrets(result.text), maxChars) };
  } catch (err) {
    return { ok: false, text: redactSecrets(err instanceof ToolError ? err.message : `internal error: ${(err as Error).message}`) };
  }
}
