/**
 * DST walks: every expected instant below was worked out by hand from the zone's rules for 2026
 * and is written with its offset, so a change in the gap/fold rules or in luxon shows up here.
 */
import { DateTime, Settings } from 'luxon';
import type { RotationSpec } from '../../src/core/model';
import type { Weekday } from '../../src/core/time/weekday-time';
import { nextHandoffAfter, onCallAt, shiftBounds, shiftIndexAt, shifts } from '../../src/core/rotation/rotation';
import type { RotationState, Shift } from '../../src/core/rotation/types';

const none: RotationState = { overrides: [], absences: [] };
const MEMBERS = ['alice', 'bob', 'carol'];

function iso(d: DateTime): string {
  return d.toISO({ suppressMilliseconds: true }) ?? 'invalid';
}

function hours(s: { start: DateTime; end: DateTime }): number {
  return s.end.diff(s.start).as('hours');
}

/** instant parses an ISO string that carries its own offset (never ambiguous). */
function instant(text: string): DateTime {
  const d = DateTime.fromISO(text, { setZone: true });
  if (!d.isValid) throw new Error(`bad test instant ${text}`);
  return d;
}

function weeklySpec(timeZone: string, weekday: Weekday = 1, hour = 9, minute = 0): RotationSpec {
  return {
    members: MEMBERS,
    shift: { unit: 'weeks', amount: 1 },
    handoff: { weekday, time: { hour, minute } },
    start: '2026-01-01',
    timeZone,
  };
}

function dailySpec(timeZone: string, hour: number, minute: number): RotationSpec {
  return {
    members: MEMBERS,
    shift: { unit: 'days', amount: 1 },
    handoff: { weekday: null, time: { hour, minute } },
    start: '2026-01-01',
    timeZone,
  };
}

/** walk lists [start, end, hours] of every rotation shift starting from `first` (an ISO instant) on. */
function walk(spec: RotationSpec, first: string, count: number): [string, string, number][] {
  const k0 = shiftIndexAt(spec, instant(first));
  expect(iso(shiftBounds(spec, k0).start)).toBe(first);
  return Array.from({ length: count }, (_, i) => {
    const b = shiftBounds(spec, k0 + i);
    return [iso(b.start), iso(b.end), hours(b)];
  });
}

describe('weekly Mon 09:00 handoffs stay at local 09:00 across DST', () => {
  const cases: [string, string, [string, string, number][]][] = [
    [
      'Europe/Berlin',
      '2026-03-16T09:00:00+01:00',
      [
        ['2026-03-16T09:00:00+01:00', '2026-03-23T09:00:00+01:00', 168],
        ['2026-03-23T09:00:00+01:00', '2026-03-30T09:00:00+02:00', 167],
        ['2026-03-30T09:00:00+02:00', '2026-04-06T09:00:00+02:00', 168],
      ],
    ],
    [
      'Europe/Berlin',
      '2026-10-12T09:00:00+02:00',
      [
        ['2026-10-12T09:00:00+02:00', '2026-10-19T09:00:00+02:00', 168],
        ['2026-10-19T09:00:00+02:00', '2026-10-26T09:00:00+01:00', 169],
        ['2026-10-26T09:00:00+01:00', '2026-11-02T09:00:00+01:00', 168],
      ],
    ],
    [
      'America/New_York',
      '2026-02-23T09:00:00-05:00',
      [
        ['2026-02-23T09:00:00-05:00', '2026-03-02T09:00:00-05:00', 168],
        ['2026-03-02T09:00:00-05:00', '2026-03-09T09:00:00-04:00', 167],
        ['2026-03-09T09:00:00-04:00', '2026-03-16T09:00:00-04:00', 168],
      ],
    ],
    [
      'America/New_York',
      '2026-10-19T09:00:00-04:00',
      [
        ['2026-10-19T09:00:00-04:00', '2026-10-26T09:00:00-04:00', 168],
        ['2026-10-26T09:00:00-04:00', '2026-11-02T09:00:00-05:00', 169],
        ['2026-11-02T09:00:00-05:00', '2026-11-09T09:00:00-05:00', 168],
      ],
    ],
    [
      // Lord Howe moves by 30 minutes: LHDT +11:00 ends Sun 2026-04-05 02:00 -> 01:30 LHST +10:30.
      'Australia/Lord_Howe',
      '2026-03-23T09:00:00+11:00',
      [
        ['2026-03-23T09:00:00+11:00', '2026-03-30T09:00:00+11:00', 168],
        ['2026-03-30T09:00:00+11:00', '2026-04-06T09:00:00+10:30', 168.5],
        ['2026-04-06T09:00:00+10:30', '2026-04-13T09:00:00+10:30', 168],
      ],
    ],
    [
      // ... and starts Sun 2026-10-04 02:00 LHST -> 02:30 LHDT.
      'Australia/Lord_Howe',
      '2026-09-21T09:00:00+10:30',
      [
        ['2026-09-21T09:00:00+10:30', '2026-09-28T09:00:00+10:30', 168],
        ['2026-09-28T09:00:00+10:30', '2026-10-05T09:00:00+11:00', 167.5],
        ['2026-10-05T09:00:00+11:00', '2026-10-12T09:00:00+11:00', 168],
      ],
    ],
    [
      'Asia/Kolkata',
      '2026-03-23T09:00:00+05:30',
      [
        ['2026-03-23T09:00:00+05:30', '2026-03-30T09:00:00+05:30', 168],
        ['2026-03-30T09:00:00+05:30', '2026-04-06T09:00:00+05:30', 168],
      ],
    ],
    [
      // Chatham: CHADT +13:45 ends Sun 2026-04-05 03:45 -> 02:45 CHAST +12:45.
      'Pacific/Chatham',
      '2026-03-30T09:00:00+13:45',
      [
        ['2026-03-30T09:00:00+13:45', '2026-04-06T09:00:00+12:45', 169],
        ['2026-04-06T09:00:00+12:45', '2026-04-13T09:00:00+12:45', 168],
      ],
    ],
    [
      // ... and starts Sun 2026-09-27 02:45 CHAST -> 03:45 CHADT.
      'Pacific/Chatham',
      '2026-09-21T09:00:00+12:45',
      [
        ['2026-09-21T09:00:00+12:45', '2026-09-28T09:00:00+13:45', 167],
        ['2026-09-28T09:00:00+13:45', '2026-10-05T09:00:00+13:45', 168],
      ],
    ],
  ];

  it.each(cases)('%s from %s', (zone, first, expected) => {
    const spec = weeklySpec(zone);
    expect(walk(spec, first, expected.length)).toEqual(expected);
    // shifts() over the same stretch agrees, and every start reads Mon 09:00 locally.
    const from = instant(first);
    const to = instant(expected[expected.length - 1]?.[1] ?? first);
    const list = shifts(spec, none, from, to);
    expect(list.map((s) => [iso(s.start), iso(s.end), hours(s)])).toEqual(expected);
    for (const s of list) expect([s.start.weekday, s.start.hour, s.start.minute]).toEqual([1, 9, 0]);
  });

  it('Kolkata keeps 168-hour weeks all year', () => {
    const spec = weeklySpec('Asia/Kolkata');
    const list = shifts(spec, none, instant('2026-01-05T09:00:00+05:30'), instant('2027-01-04T09:00:00+05:30'));
    expect(list).toHaveLength(52);
    expect(list.every((s) => hours(s) === 168 && s.start.offset === 330)).toBe(true);
  });
});

describe('a handoff time in a gap moves forward by the gap; in a fold it is the first occurrence', () => {
  const cases: [string, string, number, number, [string, string, number][]][] = [
    [
      'Berlin spring-forward, 02:30 does not exist',
      'Europe/Berlin',
      2,
      30,
      [
        ['2026-03-28T02:30:00+01:00', '2026-03-29T03:30:00+02:00', 24],
        ['2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00', 23],
        ['2026-03-30T02:30:00+02:00', '2026-03-31T02:30:00+02:00', 24],
      ],
    ],
    [
      'Berlin fall-back, 02:30 happens twice',
      'Europe/Berlin',
      2,
      30,
      [
        ['2026-10-24T02:30:00+02:00', '2026-10-25T02:30:00+02:00', 24],
        ['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00', 25],
        ['2026-10-26T02:30:00+01:00', '2026-10-27T02:30:00+01:00', 24],
      ],
    ],
    [
      'New York spring-forward, 02:30 does not exist',
      'America/New_York',
      2,
      30,
      [
        ['2026-03-07T02:30:00-05:00', '2026-03-08T03:30:00-04:00', 24],
        ['2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00', 23],
      ],
    ],
    [
      'New York fall-back, 01:30 happens twice',
      'America/New_York',
      1,
      30,
      [
        ['2026-10-31T01:30:00-04:00', '2026-11-01T01:30:00-04:00', 24],
        ['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00', 25],
      ],
    ],
    [
      'Lord Howe spring-forward, 02:15 does not exist (30-minute gap)',
      'Australia/Lord_Howe',
      2,
      15,
      [
        ['2026-10-03T02:15:00+10:30', '2026-10-04T02:45:00+11:00', 24],
        ['2026-10-04T02:45:00+11:00', '2026-10-05T02:15:00+11:00', 23.5],
      ],
    ],
    [
      'Lord Howe fall-back, 01:45 happens twice (30-minute fold)',
      'Australia/Lord_Howe',
      1,
      45,
      [
        ['2026-04-04T01:45:00+11:00', '2026-04-05T01:45:00+11:00', 24],
        ['2026-04-05T01:45:00+11:00', '2026-04-06T01:45:00+10:30', 24.5],
      ],
    ],
    [
      'Chatham spring-forward, 03:00 does not exist',
      'Pacific/Chatham',
      3,
      0,
      [
        ['2026-09-26T03:00:00+12:45', '2026-09-27T04:00:00+13:45', 24],
        ['2026-09-27T04:00:00+13:45', '2026-09-28T03:00:00+13:45', 23],
      ],
    ],
    [
      'Chatham fall-back, 03:00 happens twice',
      'Pacific/Chatham',
      3,
      0,
      [
        ['2026-04-04T03:00:00+13:45', '2026-04-05T03:00:00+13:45', 24],
        ['2026-04-05T03:00:00+13:45', '2026-04-06T03:00:00+12:45', 25],
      ],
    ],
  ];

  it.each(cases)('%s', (_name, zone, hour, minute, expected) => {
    const first = expected[0]?.[0] ?? '';
    expect(walk(dailySpec(zone, hour, minute), first, expected.length)).toEqual(expected);
  });

  it('a gap on the anchor day itself moves the anchor, and later days are back at 02:30', () => {
    const spec: RotationSpec = { ...dailySpec('Europe/Berlin', 2, 30), start: '2026-03-29' };
    expect(walk(spec, '2026-03-29T03:30:00+02:00', 2)).toEqual([
      ['2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00', 23],
      ['2026-03-30T02:30:00+02:00', '2026-03-31T02:30:00+02:00', 24],
    ]);
    expect(iso(shiftBounds(spec, -1).start)).toBe('2026-03-28T02:30:00+01:00');
  });

  it('the fold rule does not depend on the clock luxon reads (Settings.now)', () => {
    const spec = dailySpec('Europe/Berlin', 2, 30);
    const saved = Settings.now;
    const seen: string[] = [];
    try {
      for (const now of ['2026-07-01T00:00:00Z', '2026-12-01T00:00:00Z']) {
        Settings.now = () => Date.parse(now);
        const k = shiftIndexAt(spec, instant('2026-10-25T12:00:00+01:00'));
        seen.push(iso(shiftBounds(spec, k).start));
      }
    } finally {
      Settings.now = saved;
    }
    expect(seen).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+02:00']);
  });
});

describe('hour shifts are elapsed time across DST', () => {
  it('New York 12h shifts move from 09:00/21:00 to 10:00/22:00', () => {
    const spec: RotationSpec = {
      members: ['alice', 'bob'],
      shift: { unit: 'hours', amount: 12 },
      handoff: { weekday: null, time: { hour: 9, minute: 0 } },
      start: '2026-03-07',
      timeZone: 'America/New_York',
    };
    const list = shifts(spec, none, instant('2026-03-07T09:00:00-05:00'), instant('2026-03-09T10:00:00-04:00'));
    expect(list.map((s) => [s.member, iso(s.start), iso(s.end)])).toEqual([
      ['alice', '2026-03-07T09:00:00-05:00', '2026-03-07T21:00:00-05:00'],
      ['bob', '2026-03-07T21:00:00-05:00', '2026-03-08T10:00:00-04:00'],
      ['alice', '2026-03-08T10:00:00-04:00', '2026-03-08T22:00:00-04:00'],
      ['bob', '2026-03-08T22:00:00-04:00', '2026-03-09T10:00:00-04:00'],
    ]);
  });

  it('Lord Howe 8h shifts move by 30 minutes', () => {
    const spec: RotationSpec = {
      members: ['alice', 'bob', 'carol'],
      shift: { unit: 'hours', amount: 8 },
      handoff: { weekday: null, time: { hour: 6, minute: 0 } },
      start: '2026-04-04',
      timeZone: 'Australia/Lord_Howe',
    };
    expect(walk(spec, '2026-04-04T22:00:00+11:00', 3)).toEqual([
      ['2026-04-04T22:00:00+11:00', '2026-04-05T05:30:00+10:30', 8],
      ['2026-04-05T05:30:00+10:30', '2026-04-05T13:30:00+10:30', 8],
      ['2026-04-05T13:30:00+10:30', '2026-04-05T21:30:00+10:30', 8],
    ]);
  });
});

/** stepWalk checks, every 15 minutes over [from, to), that onCallAt agrees with shifts(). */
function stepWalk(spec: RotationSpec, state: RotationState, from: DateTime, to: DateTime): number {
  const list = shifts(spec, state, from, to);
  let i = 0;
  let checked = 0;
  for (let t = from; t < to; t = t.plus({ minutes: 15 })) {
    while ((list[i] as Shift).end <= t) i++;
    const piece = list[i] as Shift;
    const got = onCallAt(spec, state, t);
    expect([got.member, got.override, got.overrideId]).toEqual([piece.member, piece.override, piece.overrideId]);
    // Pieces are clipped to the window; elsewhere onCallAt gives exactly the same stretch.
    if (piece.start > from) expect(got.start.toMillis()).toBe(piece.start.toMillis());
    else expect(got.start <= piece.start).toBe(true);
    if (piece.end < to) expect(got.end.toMillis()).toBe(piece.end.toMillis());
    else expect(got.end >= piece.end).toBe(true);
    checked++;
  }
  return checked;
}

describe('walking in 15-minute steps across a DST week, onCallAt agrees with shifts()', () => {
  const zones: [string, string, string][] = [
    ['Europe/Berlin', '2026-03-26T00:00:00+01:00', '2026-04-02T00:00:00+02:00'],
    ['America/New_York', '2026-10-29T00:00:00-04:00', '2026-11-05T00:00:00-05:00'],
    ['Australia/Lord_Howe', '2026-10-01T00:00:00+10:30', '2026-10-08T00:00:00+11:00'],
    ['Pacific/Chatham', '2026-04-02T00:00:00+13:45', '2026-04-09T00:00:00+12:45'],
  ];

  it.each(zones)('%s, daily 02:30 handoffs, with overrides straddling the change', (zone, fromText, toText) => {
    const from = instant(fromText);
    const to = instant(toText);
    const spec = dailySpec(zone, 2, 30);
    const state: RotationState = {
      overrides: [
        { id: 'long', member: 'dave', start: from.plus({ days: 2, hours: 5 }), end: from.plus({ days: 4, hours: 1 }), seq: 1 },
        { id: 'short', member: 'erin', start: from.plus({ days: 3 }), end: from.plus({ days: 3, hours: 3 }), seq: 2 },
      ],
      absences: [{ member: 'bob', start: from.plus({ days: 1 }), end: from.plus({ days: 6 }) }],
    };
    expect(stepWalk(spec, state, from, to)).toBeGreaterThan(600);
    expect(stepWalk(weeklySpec(zone, 7, 2), none, from, to)).toBeGreaterThan(600);
  });

  it('nextHandoffAfter steps through the Berlin fall-back night', () => {
    const spec = dailySpec('Europe/Berlin', 2, 30);
    const seen: string[] = [];
    let t = instant('2026-10-24T12:00:00+02:00');
    for (let i = 0; i < 3; i++) {
      const h = nextHandoffAfter(spec, none, t);
      if (!h) throw new Error('expected a handoff');
      seen.push(`${iso(h.at)} ${h.outgoing}->${h.incoming}`);
      t = h.at;
    }
    const k = shiftIndexAt(spec, instant('2026-10-24T12:00:00+02:00'));
    const m = (j: number): string => MEMBERS[(((k + j) % 3) + 3) % 3] ?? '';
    expect(seen).toEqual([
      `2026-10-25T02:30:00+02:00 ${m(0)}->${m(1)}`,
      `2026-10-26T02:30:00+01:00 ${m(1)}->${m(2)}`,
      `2026-10-27T02:30:00+01:00 ${m(2)}->${m(3)}`,
    ]);
    expect(onCallAt(spec, none, instant('2026-10-25T02:15:00+01:00')).member).toBe(m(1));
  });
});
