import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG_PATH, formatProblems, loadConfigFile, parseConfig, resolveConfigPath } from '../../src/config';

describe('resolveConfigPath', () => {
  it('prefers --config over ONEHAND_CONFIG over the default', () => {
    expect(resolveConfigPath({ config: 'a.yaml' }, { ONEHAND_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath({}, { ONEHAND_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath({}, {})).toBe('config/onehand.yaml');
  });

  it('treats empty values as unset', () => {
    expect(resolveConfigPath({ config: '' }, { ONEHAND_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath({}, { ONEHAND_CONFIG: '' })).toBe('config/onehand.yaml');
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onehand-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file as a problem naming the file and the fix', () => {
    const path = join(dir, 'nope.yaml');
    const result = loadConfigFile(path);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.path).toBe(path);
    // A file somebody named: check the path (they named it already: no --config advice).
    expect(result.problems[0]?.message).toBe('no such file; check the path (config/onehand.yaml is a commented example), or create it');
  });

  it('a missing default config file says how to name one', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const result = loadConfigFile(DEFAULT_CONFIG_PATH);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems[0]?.message).toMatch(/^no such file; create it or pass --config PATH or set ONEHAND_CONFIG/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports a directory as a problem', () => {
    const result = loadConfigFile(dir);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.message).toMatch(/directory/);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'members:\n  - id: alice\n  time_zone: UTC\n');
    const result = loadConfigFile(path);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const [problem] = result.problems;
    expect(problem?.path).toBe(path);
    expect(problem?.line).toBe(3);
    expect(problem?.message).toMatch(/^line 3, column \d+: YAML syntax error/);
  });

  it('reports an empty file', () => {
    const path = join(dir, 'empty.yaml');
    writeFileSync(path, '# nothing here yet\n');
    const result = loadConfigFile(path);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ path, message: expect.stringMatching(/empty.*"members" and "teams"/) }]);
  });
});

describe('YAML syntax errors', () => {
  it.each([
    ['a: b: c\n', 1, /Nested mappings/],
    ['members: []\nmembers: []\n', 2, /each key may appear once/],
    ['members: [alice\nteams: []\n', 2, /YAML syntax error/],
    ['members: []\n---\nteams: []\n', 2, /one YAML document/],
  ])('%j gives line %d', (text, line, message) => {
    const result = parseConfig(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.path).toBe('(config)');
    expect(result.problems[0]?.line).toBe(line);
    expect(result.problems[0]?.message).toMatch(new RegExp(`^line ${line}, column \\d+: `));
    expect(result.problems[0]?.message).toMatch(message);
  });

  it('a comment that lost its "#" in the shipped example is one problem, the first error with the rest counted, not hundreds', () => {
    const lines = readFileSync('config/onehand.yaml', 'utf8').split('\n');
    lines[13] = (lines[13] ?? '').replace(/^#/, ' ');
    const result = parseConfig(lines.join('\n'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.message).toMatch(/YAML syntax error: .* \(\d+ more YAML errors after it, most likely caused by this one: its cause may be a line above it, such as a comment that lost its "#"/);
  });

  it('never throws, whatever the text', () => {
    for (const text of ['', '\t', ':', '- - -', '{', '"', '*a', '!!binary x', 'a: &a [*a]', '? [a]\n: b', '123', 'null']) {
      expect(() => parseConfig(text)).not.toThrow();
      expect(parseConfig(text).ok).toBe(false);
    }
  });

  it('reports a value that contains itself', () => {
    const result = parseConfig('members: &m\n  - *m\nteams: []\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatchObject({ path: 'members[0]', message: expect.stringMatching(/contains itself/) });
  });
});

describe('formatProblems', () => {
  it('writes one line per problem as "path: message"', () => {
    expect(
      formatProblems([
        { path: 'teams[0].lead', message: 'missing' },
        { path: 'plugins.foo', message: 'no plugin named "foo"', line: 3 },
      ]),
    ).toBe('teams[0].lead: missing\nplugins.foo: no plugin named "foo"');
  });
});
