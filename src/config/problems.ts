/**
 * Config problems: what is wrong, where (a key path such as "teams[0].rotation.handoff"), and how
 * to fix it. Validation collects every problem instead of stopping at the first.
 */

/**
 * ConfigProblem is one thing wrong with a config. `path` is a key path ("teams[0].rotation.handoff",
 * "plugins.foo"); for problems with the document as a whole (a missing file, a YAML syntax error,
 * an empty file) it is the file path, or "(config)" when the text came without one. `message`
 * names the problem and its fix. `line` and `column` (1-based) point into the YAML text when known.
 */
export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** DOCUMENT_PATH is the path of whole-document problems when the text has no file path. */
export const DOCUMENT_PATH = '(config)';

/** formatProblems writes one line per problem: `path: message`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}

/** PathSegment is a map key (string) or a list index (number). */
export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** formatPath writes segments as "teams[0].rotation.handoff"; odd keys are quoted: plugins["a.b"]. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** editDistance is the Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: insertions, deletions, substitutions, and two neighbours swapped
  // ("frnak" for "frank") each count one.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length] as number;
}

function squash(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * closestName returns the candidate nearest to `input` when it is plausibly a typo (same letters
 * up to case and separators, or an edit distance of at most a third of the length, minimum 1),
 * else null.
 */
export function closestName(input: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  const squashed = squash(input);
  for (const c of candidates) {
    if (c === input) return c;
    const score = squash(c) === squashed ? 0 : editDistance(input.toLowerCase(), c.toLowerCase());
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  const limit = Math.max(1, Math.floor(input.length / 3));
  return best !== null && bestScore <= limit ? best : null;
}

/** didYouMean returns `; did you mean "x"?` for a close candidate, else ''. */
/** maybeMeant: ` (did you mean "frank"?)` for a mistyped name, or ''. */
export function maybeMeant(input: string, candidates: Iterable<string>): string {
  const best = closestName(input, candidates);
  return best === null || best === input ? '' : ` (did you mean "${best}"?)`;
}

export function didYouMean(input: string, candidates: Iterable<string>): string {
  const best = closestName(input, candidates);
  return best === null || best === input ? '' : `; did you mean "${best}"?`;
}

/** describeValue names a value for an error message: `the number 42`, `"abc"`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? 'a number too long to be read exactly'
      : `the number ${value}`;
  }
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping (key: value pairs)';
  return `a ${typeof value}`;
}
