/**
 * Validators for the official schemas committed under test/fixtures/schemas (see SOURCES.md):
 * Adaptive Card 1.5 (draft-06) and the Teams manifest 1.17 (declares draft-04 but uses no keyword
 * whose meaning changed in draft-06, so it is checked as draft-06).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';

const DIR = path.join(__dirname, '..', 'fixtures', 'schemas');

/** load reads a committed schema; a root `id` (draft-04 style, refused by ajv 8) becomes `$id` in memory. */
function load(name: string): Record<string, unknown> {
  const { id, ...schema } = JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')) as Record<string, unknown>;
  return typeof id === 'string' ? { ...schema, $id: id } : schema;
}

let cached: { card: ValidateFunction; manifest: ValidateFunction } | null = null;

export function validators(): { card: ValidateFunction; manifest: ValidateFunction } {
  if (cached) return cached;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addMetaSchema(draft06);
  const card = ajv.compile(load('adaptive-card-1.5.json'));
  const manifestSchema = { ...load('teams-manifest-1.17.json'), $schema: 'http://json-schema.org/draft-06/schema#' };
  const manifest = ajv.compile(manifestSchema);
  cached = { card, manifest };
  return cached;
}

/** expectValidCard fails with ajv's errors when `card` is not a valid Adaptive Card 1.5. */
export function expectValidCard(card: unknown, label = 'card'): void {
  const { card: validate } = validators();
  if (!validate(card)) throw new Error(`${label} is not a valid Adaptive Card 1.5:\n${JSON.stringify(validate.errors?.slice(0, 8), null, 1)}\n${JSON.stringify(card).slice(0, 1500)}`);
}
