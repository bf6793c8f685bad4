/**
 * Shift notes: how a stretch of on-call and a gap are described to people, in the words of the
 * team's rotation policy. A layered schedule has layers ("no layer covers it"); any other policy
 * (a plugin's, or the single rotation) has none, so its gaps are where the policy names nobody.
 */
import { LAYERED_ROTATION } from '../model';
import type { Shift } from '../rotation/types';

/** GapWords: the words for a gap of a team whose rotation policy is `policy`. */
export interface GapWords {
  /** In a stretch's note: "(gap: <note>; the lead holds it)". */
  readonly note: string;
  /** On an incident's timeline: "<timeline>: Carol, the lead, holds the gap". */
  readonly timeline: string;
  /** In check-config's warning: "N gaps in the next 4 weeks <where> (zone)". */
  readonly where: string;
  /** What an admin changes to cover the gaps. */
  readonly fix: string;
}

/** gapWords: the words for gaps under the rotation policy named `policy` ("layered", "single", a plugin's). */
export function gapWords(policy: string): GapWords {
  if (policy === LAYERED_ROTATION) {
    return {
      note: 'no layer covers it',
      timeline: 'no layer of the schedule covers this time',
      where: 'where no layer has anyone',
      fix: 'add a layer or widen a layer\'s restrictions to cover them',
    };
  }
  return {
    note: `the rotation policy "${policy}" names nobody`,
    timeline: `the rotation policy "${policy}" names nobody for this time`,
    where: `where the rotation policy "${policy}" names nobody`,
    fix: `change the team's rotation.settings so that the policy "${policy}" names someone then (see the policy's documentation)`,
  };
}

/** shiftNote: " (override)", " (gap: no layer covers it; the lead holds it)", " (weeknights)" or "". */
export function shiftNote(s: Shift, policy: string): string {
  if (s.override) return ' (override)';
  if (s.gap) return ` (gap: ${gapWords(policy).note}; the lead holds it)`;
  return s.layer ? ` (${s.layer})` : '';
}
