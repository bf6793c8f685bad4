/**
 * Time zones as Onehand accepts them: IANA zones named by a place (Europe/Berlin, Singapore) or
 * UTC. The zone database also holds abbreviations and POSIX rules (CET, EST, PST8PDT) that name no
 * place: their rules are not the ones a team's people live by (EST never has daylight saving).
 */
const ABBREVIATED_ZONES: ReadonlySet<string> = new Set(['CET', 'MET', 'EET', 'WET', 'EST', 'MST', 'HST', 'EST5EDT', 'CST6CDT', 'MST7MDT', 'PST8PDT']);

/** isAbbreviatedZone: the zone is one of ABBREVIATED_ZONES (in any letter case). */
export function isAbbreviatedZone(zone: string): boolean {
  return ABBREVIATED_ZONES.has(zone.trim().toUpperCase());
}
