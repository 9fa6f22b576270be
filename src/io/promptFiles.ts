// Prompts live in prompts/*.md: front matter (name, title, description, arguments) and a body
// with {{argument}} placeholders. The MCP server serves them; the agent loop reuses them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PromptArgument {
  name: string;
  description: string;
  required: boolean;
  /** from a description ending "(default VALUE)": used when the argument is not given */
  default?: string;
}

export interface PromptFile {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument[];
  body: string;
}

export const PROMPTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'prompts');

export function parsePromptFile(text: string, fallbackName: string): PromptFile {
  const m = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text);
  const meta: Record<string, string> = {};
  const args: PromptArgument[] = [];
  if (m) {
    for (const line of m[1]!.split('\n')) {
      const arg = /^\s*-\s*([a-z_]+)(\?)?:\s*(.*)$/.exec(line);
      if (arg) {
        const description = arg[3]!.trim();
        const fallback = /\(default ([^()\s]+)\)$/.exec(description)?.[1];
        args.push({ name: arg[1]!, required: arg[2] !== '?', description, ...(fallback !== undefined ? { default: fallback } : {}) });
        continue;
      }
      const kv = /^([a-z_]+):\s*(.*)$/.exec(line);
      if (kv) meta[kv[1]!] = kv[2]!.trim();
    }
  }
  return {
    name: meta.name ?? fallbackName,
    title: meta.title ?? meta.name ?? fallbackName,
    description: meta.description ?? '',
    arguments: args,
    body: (m ? m[2]! : text).trim(),
  };
}

export function loadPromptFiles(dir: string = PROMPTS_DIR): PromptFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => parsePromptFile(readFileSync(join(dir, f), 'utf8'), f.replace(/\.md$/, '')));
}

/** Fills {{name}} placeholders; unknown placeholders are left visible rather than guessed. */
export function renderPrompt(prompt: PromptFile, values: Record<string, string | undefined>): string {
  return prompt.body.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, key: string) => {
    const given = values[key];
    if (given !== undefined && given !== '') return given;
    const arg = prompt.arguments.find((a) => a.name === key);
    return arg ? arg.default ?? '' : whole;
  });
}
