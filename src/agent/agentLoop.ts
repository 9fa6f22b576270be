// The bounded tool-use loop of LLM mode: Claude calls the shared tool definitions (through the
// agent adapter) until it answers in text, or until the step budget runs out, when one last call
// is made without tools and with the final instruction, which forces the answer.
//
// Nothing the model asks for can throw here: an unknown tool, a tool the agent may not use,
// invalid arguments or a failing handler all come back to the model as a tool_result with
// is_error. API errors and timeouts do propagate (the caller falls back to the deterministic draft).
import type Anthropic from '@anthropic-ai/sdk';
import type { ToolDeps } from '../tools/index.js';
import { agentToolSpecs, runAgentTool, truncateForModel } from './toolAdapter.js';

/**
 * The tools the drafting agent may call: read and analysis tools only. `file_tickets` (writes,
 * even if dry-run) and `draft_postmortem` (saves a report to the store) are left out.
 */
export const AGENT_TOOL_NAMES: readonly string[] = ['get_incident_context', 'build_timeline', 'find_triggering_commit', 'search_past_rcas'];

/**
 * Arguments the agent may pass, per tool, when narrower than the tool's own schema:
 * get_incident_context only looks up the stored incident (no file paths, no inline bundles that
 * would overwrite the stored one, no live re-harvest).
 */
const AGENT_ARGUMENTS: Record<string, readonly string[]> = {
  get_incident_context: ['incident_id'],
};

export interface AgentLoopOptions {
  client: Anthropic;
  model: string;
  /** model calls, the forced final one included (at least 1) */
  maxSteps: number;
  /** max_tokens of every call */
  maxTokens: number;
  /** each tool output is truncated to this many characters before it reaches the model */
  toolOutputChars: number;
  system: string;
  userPrompt: string;
  /** appended to the last call, which is made without tools */
  finalInstruction: string;
  deps: ToolDeps;
}

export interface AgentLoopResult {
  /** the text of the model's last answer (expected to be the JSON draft) */
  finalText: string;
  /** number of messages.create calls made */
  steps: number;
  /** every tool call in order, with whether it succeeded */
  transcript: Array<{ tool: string; ok: boolean }>;
  /**
   * The conversation as plain text messages (tool calls and results written out as text), ending
   * with the model's final answer: a follow-up turn (the repair turn) can be sent without tools.
   */
  conversation: Anthropic.MessageParam[];
  /** stop_reason of the last call */
  stopReason: string | null;
}

export function agentTools(): Anthropic.Tool[] {
  return agentToolSpecs()
    .filter((spec) => AGENT_TOOL_NAMES.includes(spec.name))
    .map((spec) => {
      const schema = { ...spec.input_schema } as Record<string, unknown>;
      delete schema.$schema;
      const allowed = AGENT_ARGUMENTS[spec.name];
      if (allowed) {
        const props = (schema.properties ?? {}) as Record<string, unknown>;
        schema.properties = Object.fromEntries(Object.entries(props).filter(([k]) => allowed.includes(k)));
        schema.required = allowed.filter((k) => k in props);
      }
      return { name: spec.name, description: spec.description, input_schema: { ...schema, type: 'object' } as Anthropic.Tool.InputSchema };
    });
}

/** Runs one tool call for the agent; never throws. */
async function dispatch(name: string, input: unknown, deps: ToolDeps, maxChars: number): Promise<{ ok: boolean; text: string }> {
  if (!AGENT_TOOL_NAMES.includes(name)) {
    return { ok: false, text: `unknown tool "${name}"; available tools: ${AGENT_TOOL_NAMES.join(', ')}` };
  }
  const allowed = AGENT_ARGUMENTS[name];
  if (allowed && input !== null && typeof input === 'object') {
    const extra = Object.keys(input).filter((k) => !allowed.includes(k));
    if (extra.length) return { ok: false, text: `invalid arguments for ${name}: only ${allowed.join(', ')} may be passed here (got ${extra.join(', ')})` };
  }
  try {
    const result = await runAgentTool(name, input, deps, maxChars);
    return { ok: result.ok, text: truncateForModel(result.text, maxChars) };
  } catch (err) {
    return { ok: false, text: truncateForModel(`internal error: ${(err as Error).message}`, maxChars) };
  }
}

function textOf(content: Anthropic.ContentBlock[]): string {
  return content
    .filter((b): b is Anthropic.TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}

/** The parts of a response that are sent back: text and tool calls (nothing else is produced here). */
function asParams(content: Anthropic.ContentBlock[]): Anthropic.ContentBlockParam[] {
  const out: Anthropic.ContentBlockParam[] = [];
  for (const b of content) {
    if (b.type === 'text' && b.text.length > 0) out.push({ type: 'text', text: b.text });
    else if (b.type === 'tool_use') out.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
  }
  return out;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * The conversation with every tool_use / tool_result block written out as text. The Messages
 * API rejects tool blocks in a request that defines no tools, so calls made without tools (the
 * forced last step, the repair turn) send this form.
 */
export function flattenConversation(messages: readonly Anthropic.MessageParam[]): Anthropic.MessageParam[] {
  const names = new Map<string, string>();
  const out: Anthropic.MessageParam[] = [];
  for (const m of messages) {
    let text: string;
    if (typeof m.content === 'string') text = m.content;
    else {
      const parts: string[] = [];
      for (const b of m.content) {
        if (b.type === 'text') parts.push(b.text);
        else if (b.type === 'tool_use') {
          names.set(b.id, b.name);
          parts.push(`[called tool ${b.name} with ${clip(JSON.stringify(b.input ?? {}), 500)}]`);
        } else if (b.type === 'tool_result') {
          const body = typeof b.content === 'string' ? b.content : (b.content ?? []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
          parts.push(`[result of ${names.get(b.tool_use_id) ?? 'tool'}${b.is_error ? ' (error)' : ''}]\n${body}`);
        }
      }
      text = parts.join('\n\n');
    }
    if (text.trim() === '') text = m.role === 'assistant' ? '(no text)' : '(no content)';
    const prev = out[out.length - 1];
    // consecutive messages of one role are merged, so roles keep alternating
    if (prev && prev.role === m.role) prev.content = `${prev.content as string}\n\n${text}`;
    else out.push({ role: m.role, content: text });
  }
  return out;
}

function withFinalInstruction(messages: Anthropic.MessageParam[], instruction: string): Anthropic.MessageParam[] {
  const out = messages.slice();
  const last = out[out.length - 1];
  if (last && last.role === 'user') out[out.length - 1] = { role: 'user', content: `${last.content as string}\n\n${instruction}` };
  else out.push({ role: 'user', content: instruction });
  return out;
}

export async function runAgentLoop(opts: AgentLoopOptions): Promise<AgentLoopResult> {
  const maxSteps = Math.max(1, Math.floor(opts.maxSteps));
  const budget = Math.max(1, Math.floor(opts.toolOutputChars));
  const tools = agentTools();
  // Only what the read tools need: the agent never writes, files or harvests (the incident is stored).
  const deps: ToolDeps = { store: opts.deps.store, cwd: opts.deps.cwd, writesEnabled: false };
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: opts.userPrompt }];
  const transcript: Array<{ tool: string; ok: boolean }> = [];
  let steps = 0;

  for (let step = 0; step < maxSteps; step++) {
    const last = step === maxSteps - 1;
    const response = last
      ? await opts.client.messages.create({
          model: opts.model,
          max_tokens: opts.maxTokens,
          system: opts.system,
          messages: withFinalInstruction(flattenConversation(messages), opts.finalInstruction),
        })
      : await opts.client.messages.create({ model: opts.model, max_tokens: opts.maxTokens, system: opts.system, messages, tools });
    steps++;
    const calls = response.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    if (last || calls.length === 0) {
      const finalText = textOf(response.content);
      const conversation = flattenConversation([...messages, { role: 'assistant', content: finalText || '(no text)' }]);
      return { finalText, steps, transcript, conversation, stopReason: response.stop_reason ?? null };
    }
    messages.push({ role: 'assistant', content: asParams(response.content) });
    const results: Anthropic.ToolResultBlockParam[] = [];
    for (const call of calls) {
      const result = await dispatch(call.name, call.input, deps, budget);
      transcript.push({ tool: call.name, ok: result.ok });
      results.push({ type: 'tool_result', tool_use_id: call.id, content: result.text || '(empty)', ...(result.ok ? {} : { is_error: true }) });
    }
    messages.push({ role: 'user', content: results });
  }
  // unreachable: the last step always returns
  throw new Error('agent loop ended without an answer');
}
