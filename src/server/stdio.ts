// `hindsight serve`: the MCP server over stdio. stdout carries the protocol only; logs go to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { IncidentStore, hindsightHome } from '../store/incidentStore.js';
import { createServer } from './createServer.js';

export async function runStdioServer(): Promise<void> {
  const store = IncidentStore.open(hindsightHome());
  const server = createServer({ store, writesEnabled: process.env.HINDSIGHT_WRITE === '1', cwd: process.cwd() });
  const transport = new StdioServerTransport();
  const shutdown = async () => {
    await server.close().catch(() => undefined);
    store.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  transport.onclose = () => store.close();
  await server.connect(transport);
  process.stderr.write(`hindsight MCP server ready (data: ${hindsightHome()})\n`);
}
