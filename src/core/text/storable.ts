/**
 * Characters no store keeps as they are: U+0000 (PostgreSQL's text and jsonb refuse it) and lone
 * surrogates (jsonb refuses their escape; UTF-8 cannot encode them). Both are valid in JSON and in
 * JavaScript strings, so alerts and chat messages may carry them. Onehand replaces them with U+FFFD,
 * the replacement character, where text comes in (webhook bodies, chat commands), so what it holds
 * in memory is what every store keeps (a value changed only by the store would not match its own
 * copy in memory: an alert's startsAt, a fingerprint). Shown text drops control characters anyway.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SURROGATE = /[\uD800-\uDFFF]/;

/** storableText: `text` with U+0000 and lone surrogates replaced by U+FFFD (the same string when it has none). */
export function storableText(text: string): string {
  const out = text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
  return SURROGATE.test(out) ? out.replace(LONE_SURROGATE, '\uFFFD') : out;
}

/** storableValue: a parsed JSON value with storableText applied to every string, keys included. */
export function storableValue(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableValue);
  if (typeof value === 'object' && value !== null) {
    // fromEntries defines own properties: a "__proto__" key stays a key, as JSON.parse made it.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableValue(v)]));
  }
  return value;
}

/**
 * mayHoldUnstorable: whether a JSON text has an escape of such a character ("\u0000", "\uD8..".."\uDF..").
 * Cheap (three substring searches): a body without one is used as parsed. A false positive (an
 * escaped backslash before "u0000") only costs the walk over the value.
 */
export function mayHoldUnstorable(json: string): boolean {
  return json.includes('\\u0000') || json.includes('\\ud') || json.includes('\\uD');
}

/** cutText: the first `max` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair (an emoji). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
