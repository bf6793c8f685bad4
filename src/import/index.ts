/**
 * Import from other on-call tools: `onehand import pagerduty|opsgenie|grafana-oncall FILE...`.
 * Each importer is a pure mapping (API JSON in, config model and unmapped lines out); one writer
 * renders the commented YAML.
 */
import type { DateTime } from 'luxon';
import { importGrafanaOnCall } from './grafana-oncall';
import { importOpsgenie } from './opsgenie';
import { importPagerDuty } from './pagerduty';
import { ImportInputError, TOOL_NAMES, type ImportDocument, type ImportResult, type ImportTool } from './model';

export { writeImportedConfig } from './yaml-writer';
export { IMPORT_TOOLS, ImportInputError, TOOL_NAMES, type ImportDocument, type ImportResult, type ImportTool } from './model';

/** importConfig runs the importer for `tool`; throws ImportInputError when the input is not that tool's shape. */
export function importConfig(tool: ImportTool, documents: readonly ImportDocument[], now: DateTime): ImportResult {
  if (documents.length === 0) throw new ImportInputError('no input file given');
  const result = tool === 'pagerduty' ? importPagerDuty(documents, now) : tool === 'opsgenie' ? importOpsgenie(documents, now) : importGrafanaOnCall(documents, now);
  if (result.teams.length === 0) {
    throw new ImportInputError(`nothing Onehand can use in the input:\n${result.unmapped.map((u) => `  ${u}`).join('\n')}`);
  }
  result.unmapped.push(`members: ${TOOL_NAMES[tool]} does not know their chat identities: fill in discord and/or teams ids for every member (each is marked FILL IN)`);
  return result;
}
