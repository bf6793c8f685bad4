/**
 * RichText: the one way the core writes words for people, safe by construction.
 *
 * A RichText is a list of segments. Plain strings are Onehand's own wording (trusted); `user` segments
 * carry text that came from a person or an alert and must be escaped by every renderer; `mention`
 * segments name a member and may ping them only if the message lists that member in `mentions`.
 * Build it with the `rt` tag: interpolated strings become `user` segments unless wrapped.
 */
import type { MemberId } from '../model';

export type Segment =
  | string
  | { readonly t: 'user'; readonly v: string }
  | { readonly t: 'mention'; readonly member: MemberId; readonly name: string }
  | { readonly t: 'code'; readonly v: string };

export type RichText = readonly Segment[];

export type Interpolation = Segment | RichText | number;

/** rt tags a template: literals are trusted, `${x}` strings are user text, segments pass through. */
export function rt(strings: TemplateStringsArray, ...values: Interpolation[]): RichText {
  const out: Segment[] = [];
  strings.forEach((literal, i) => {
    if (literal) out.push(literal);
    if (i < values.length) {
      const value = values[i] as Interpolation;
      if (typeof value === 'number') out.push(String(value));
      else if (typeof value === 'string') out.push({ t: 'user', v: value });
      else if (Array.isArray(value)) out.push(...(value as RichText));
      else out.push(value as Segment);
    }
  });
  return out;
}

export const user = (v: string): Segment => ({ t: 'user', v });
export const trusted = (v: string): Segment => v;
export const code = (v: string): Segment => ({ t: 'code', v });
export const mention = (member: MemberId, name: string): Segment => ({ t: 'mention', member, name });

/**
 * toPlain renders without markup, for logs, the console and tests. Control characters in user text
 * are removed so an alert cannot move a terminal's cursor or fake a line from someone else.
 */
export function toPlain(text: RichText): string {
  return text
    .map((s) => {
      if (typeof s === 'string') return s;
      if (s.t === 'mention') return `@${stripControl(s.name)}`;
      return stripControl(s.v);
    })
    .join('');
}

 
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function stripControl(text: string): string {
  return text.replace(CONTROL, '');
}
