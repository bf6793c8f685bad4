/**
 * Time zones as Onehand accepts them: IANA zones named by a place (Europe/Berlin, Singapore) or
 * UTC. The zone database also holds abbreviations and POSIX rules (CET, EST, PST8PDT) that name no
 * place: their rules are not the ones a team's people live by (EST never has daylight saving).
 * Node's ICU adds the old three-letter IDs of Java (BST, IST, PST, ...), which mislead worse: BST
 * is Asia/Dhaka there, not British Summer Time.
 */
const ABBREVIATED_ZONES: ReadonlySet<string> = new Set([
  'CET', 'MET', 'EET', 'WET', 'EST', 'MST', 'HST', 'EST5EDT', 'CST6CDT', 'MST7MDT', 'PST8PDT',
  'ACT', 'AET', 'AGT', 'ART', 'AST', 'BET', 'BST', 'CAT', 'CNT', 'CST', 'CTT', 'EAT', 'ECT', 'IET',
  'IST', 'JST', 'MIT', 'NET', 'NST', 'PLT', 'PNT', 'PRT', 'PST', 'SST', 'VST',
]);

/** isAbbreviatedZone: the zone is one of ABBREVIATED_ZONES (in any letter case). */
export function isAbbreviatedZone(zone: string): boolean {
  return ABBREVIATED_ZONES.has(zone.trim().toUpperCase());
}

/**
 * ZONED_TIME: how an instant is shown to people, in a zone it names ("Wed 02 Dec 17:23 GMT+1"):
 * timelines, the dashboard, rotation replies and shift notices, so that a reader in another zone
 * never takes it for their own.
 */
export const ZONED_TIME = 'ccc dd LLL HH:mm ZZZZ';
