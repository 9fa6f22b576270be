import type { ToolLink } from '../tools/defineTool.js';

// Messages between the MCP server's main thread and its tool workers (toolWorker.ts).
export type ToWorker =
  | { kind: 'tool'; id: number; tool: string; args: unknown; cancelFlag: SharedArrayBuffer; wantsProgress: boolean; canConfirm: boolean }
  | { kind: 'resource'; id: number; resource: string; incidentId: string; cancelFlag: SharedArrayBuffer }
  | { kind: 'cancel'; id: number }
  | { kind: 'confirmed'; seq: number; ok: boolean };

export type FromWorker =
  | { kind: 'result'; id: number; structured: unknown; text: string; links?: ToolLink[] }
  | { kind: 'resource'; id: number; text: string }
  | { kind: 'error'; id: number; message: string; toolError: boolean }
  | { kind: 'progress'; id: number; progress: number; total: number; message: string }
  | { kind: 'confirm'; id: number; seq: number; message: string };
