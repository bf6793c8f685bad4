import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import JSZip from 'jszip';
import { buildPackage, TEAMS_LIMITS } from '../../adapters/teams/manifest';
import { pngSize } from '../../adapters/teams/png';
import { COMMANDS, commandName } from '../../src/core/commands/spec';
import { main } from '../../src/cli/main';
import { runCli } from '../cli/run-cli';
import { validators } from './schemas';

const APP_ID = '9e8f7a6b-1234-4cde-8f00-aabbccddeeff';

/** pixels decodes an RGBA, non-interlaced, filter-0 PNG as written by encodePng. */
function pixels(png: Buffer): { width: number; height: number; alpha: (x: number, y: number) => number } {
  const { width, height } = pngSize(png);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  return { width, height, alpha: (x, y) => raw[y * (width * 4 + 1) + 1 + x * 4 + 3] as number };
}

describe('Teams app package', () => {
  it('builds a manifest valid against the Teams 1.17 schema, with command lists from COMMANDS within Teams limits', async () => {
    const pkg = await buildPackage({ appId: APP_ID });
    const { manifest: validate } = validators();
    const ok = validate(pkg.manifest);
    if (!ok) throw new Error(JSON.stringify(validate.errors, null, 1));
    expect(pkg.manifest.manifestVersion).toBe('1.17');
    const bot = (pkg.manifest.bots as Array<{ botId: string; commandLists: Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }> }>)[0]!;
    expect(bot.botId).toBe(APP_ID);
    const names = COMMANDS.map(commandName);
    for (const list of bot.commandLists) {
      expect(list.commands.length).toBeGreaterThan(0);
      expect(list.commands.length).toBeLessThanOrEqual(TEAMS_LIMITS.commandsPerList);
      for (const c of list.commands) {
        expect(names).toContain(c.title);
        expect(c.title.length).toBeLessThanOrEqual(32);
        expect(c.description.length).toBeLessThanOrEqual(128);
        const spec = COMMANDS.find((s) => commandName(s) === c.title)!;
        expect(c.description.startsWith(spec.summary.slice(0, 60))).toBe(true);
      }
    }
    expect(bot.commandLists.flatMap((l) => l.scopes).sort()).toEqual(['groupChat', 'personal', 'team']);
  });

  it('zips manifest.json and the two icons at the root: color 192x192, outline 32x32 white on transparent', async () => {
    const pkg = await buildPackage({ appId: APP_ID });
    const zip = await JSZip.loadAsync(pkg.zip);
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    expect(JSON.parse(await zip.file('manifest.json')!.async('string'))).toEqual(pkg.manifest);
    const color = await zip.file('color.png')!.async('nodebuffer');
    const outline = await zip.file('outline.png')!.async('nodebuffer');
    expect(color.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(pngSize(color)).toEqual({ width: 192, height: 192 });
    expect(pngSize(outline)).toEqual({ width: 32, height: 32 });
    const o = pixels(outline);
    expect(o.alpha(0, 0)).toBe(0); // transparent background
    let opaque = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) if (o.alpha(x, y) === 255) opaque++;
    expect(opaque).toBeGreaterThan(30);
    expect(pixels(color).alpha(0, 0)).toBe(255);
    // Reproducible: the same input gives the same bytes.
    expect((await buildPackage({ appId: APP_ID })).zip.equals(pkg.zip)).toBe(true);
  });

  it('`onehand teams-manifest --out DIR` writes the package; a missing or malformed app id is a clear error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-teams-'));
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['teams-manifest', '--out', dir], { MICROSOFT_APP_ID: APP_ID })).toBe(0);
      expect(fs.readdirSync(dir).sort()).toEqual(['color.png', 'manifest.json', 'onehand-teams.zip', 'outline.png']);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).id).toBe(APP_ID);

      expect(await main(['teams-manifest', '--out', dir], {})).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/Microsoft App ID is missing: set MICROSOFT_APP_ID or pass --app-id/);
      err.mockClear();
      expect(await main(['teams-manifest', '--out', dir, '--app-id', 'not-a-guid'], {})).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/"not-a-guid" is not a GUID/);
      err.mockClear();
      // Teams refuses a package whose developer URLs are not https: said here, not at the upload.
      expect(await main(['teams-manifest', '--out', path.join(dir, 'c'), '--app-id', APP_ID, '--website', 'notaurl'], {})).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/the website URL "notaurl" is not an https:\/\/ URL/);
      expect(fs.existsSync(path.join(dir, 'c'))).toBe(false);
      expect(await main(['teams-manifest', '--out', path.join(dir, 'b'), '--app-id', APP_ID], {})).toBe(0);
      // A file where the folder should be: said in words, not as mkdir's EEXIST.
      err.mockClear();
      expect(await main(['teams-manifest', '--out', path.join(dir, 'manifest.json'), '--app-id', APP_ID], {})).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/--out .*manifest\.json is a file; name a folder/);
      err.mockClear();
      expect(await main(['teams-manifest', '--out', path.join(dir, 'manifest.json', 'sub'), '--app-id', APP_ID], {})).toBe(1);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/cannot write the Teams package to .*: a file is in the way of that folder; choose another --out folder/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('the real `bin/onehand.js teams-manifest` of a clone writes the package too (not only under jest)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-teams-'));
    const result = await runCli(['teams-manifest', '--out', dir, '--app-id', APP_ID]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['color.png', 'manifest.json', 'onehand-teams.zip', 'outline.png']);
  }, 30_000);
});
