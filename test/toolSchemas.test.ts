// Every tool's public contract (name, title, toolset, read-only flag, input and output JSON Schema)
// as one JSON snapshot, so any schema change shows up as a diff in review.
// Update deliberately with: npx vitest run test/toolSchemas.test.ts -u
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TOOLS } from '../src/tools/index.js';

// Input schemas are rendered as a caller sees them (io: 'input': defaulted fields are optional),
// output schemas as the server produces them, the same way the MCP SDK renders them for tools/list.
function inputJsonSchema(shape: z.ZodRawShape) {
  return z.toJSONSchema(z.object(shape), { io: 'input' });
}

function outputJsonSchema(shape: z.ZodRawShape) {
  return z.toJSONSchema(z.object(shape));
}

const doc = TOOLS.map((tool) => ({
  name: tool.name,
  title: tool.title,
  toolset: tool.toolset,
  readOnly: tool.readOnly,
  inputSchema: inputJsonSchema(tool.inputSchema),
  outputSchema: outputJsonSchema(tool.outputSchema),
}));

describe('tool schemas', () => {
  it('match the reviewed snapshot', async () => {
    await expect(JSON.stringify(doc, null, 2) + '\n').toMatchFileSnapshot('./__snapshots__/tool-schemas.json');
  });

  it('describe every input property', () => {
    for (const tool of doc) {
      const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: unknown }>;
      expect(Object.keys(properties).length, tool.name).toBeGreaterThan(0);
      for (const [prop, schema] of Object.entries(properties)) {
        expect(typeof schema.description, `${tool.name}.${prop} has no description`).toBe('string');
        expect((schema.description as string).trim().length, `${tool.name}.${prop} has an empty description`).toBeGreaterThan(0);
      }
    }
  });

  it('name each tool once, with a title and a known toolset', () => {
    const names = doc.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const tool of doc) {
      expect(tool.title.length, tool.name).toBeGreaterThan(0);
      expect(['context', 'analysis', 'history', 'tickets'], tool.name).toContain(tool.toolset);
    }
  });
});
