/** Reads the import fixtures (test/fixtures/import; sources in its SOURCES.md). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImportDocument } from '../../src/import';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'import');

/** fixture: one saved API response, named as the CLI would name it. */
export function fixture(tool: string, file: string): ImportDocument {
  return { name: `${tool}/${file}`, value: JSON.parse(fs.readFileSync(path.join(FIXTURES, tool, file), 'utf8')) as unknown };
}
