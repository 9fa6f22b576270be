// Shared by the analysis tools: a stored incident's bundle, analysed once per call.
import { analyzeBundle, type Analysis } from '../core/analyze.js';
import { ToolError, type ToolDeps } from './defineTool.js';

export function analysisOf(incidentId: string, deps: ToolDeps): Analysis {
  const bundle = deps.store.getBundle(incidentId);
  if (!bundle) {
    throw new ToolError(`unknown incident "${incidentId}": call get_incident_context with bundle_path or an inline bundle first`);
  }
  return analyzeBundle(bundle);
}
