/**
 * writeTeamsPackage: what `onehand teams-manifest` does: build the app package and write
 * manifest.json, color.png, outline.png and onehand-teams.zip into a folder. Returns the paths.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { makeFolder } from '../../src/runtime/make-folder';
import { buildPackage, type ManifestOptions } from './manifest';

export const PACKAGE_ZIP = 'onehand-teams.zip';

export async function writeTeamsPackage(options: ManifestOptions & { readonly out: string }): Promise<string[]> {
  const pkg = await buildPackage(options);
  makeFolder(options.out); // not fs.mkdir's recursive: it never returns for a folder under /proc
  const written: string[] = [];
  for (const [name, data] of [...Object.entries(pkg.files), [PACKAGE_ZIP, pkg.zip] as const]) {
    const file = path.join(options.out, name);
    await fs.writeFile(file, data);
    written.push(file);
  }
  return written;
}
