import { DateTime } from 'luxon';
import type { RotationSpec } from '../../src/core/model';
import {
  nextHandoffAfter,
  onCallAt,
  rotationAnchor,
  shiftBounds,
  shiftIndexAt,
  shifts,
} from '../../src/core/rotation/rotation';
import type { Absence, Override, RotationState, Shift } from '../../src/core/rotation/types';

const ZONE = 'Europe/Berlin';

/** Weekly Mon 09:00 Europe/Berlin; 2026-01-01 is a Thursday, so the anchor is Mon 2026-01-05 09:00. */
const weekly: RotationSpec = {
  members: ['alice', 'bob', 'carol'],
  shift: { unit: 'weeks', amount: 1 },
  handoff: { weekday: 1, time: { hour: 9, minute: 0 } },
  start: '2026-01-01',
  timeZone: ZONE,
};

const none: RotationState = { overrides: [], absences: [] };

/** at reads a wall-clock ISO string ("2026-01-07T12:00") in Berlin; only used away from DST folds. */
function at(local: string): DateTime {
  return DateTime.fromISO(local, { zone: ZONE });
}

function iso(d: DateTime): string {
  return d.toISO({ suppressMilliseconds: true }) ?? 'invalid';
}

/** row renders a stretch compactly: "alice 2026-01-05T09:00:00+01:00 .. 2026-01-12T09:00:00+01:00 [o1]". */
function row(s: Shift): string {
  return `${s.member} ${iso(s.start)} .. ${iso(s.end)}${s.override ? ` [${s.overrideId}]` : ''}`;
}

function override(id: string, member: string, start: string, end: string, seq: number): Override {
  return { id, member, start: at(start), end: at(end), seq };
}

function absence(member: string, start: string, end: string): Absence {
  return { member, start: at(start), end: at(end) };
}

describe('rotationAnchor', () => {
  it('is the first handoff weekday on or after the start date', () => {
    expect(iso(rotationAnchor(weekly))).toBe('2026-01-05T09:00:00+01:00');
    expect(iso(rotationAnchor({ ...weekly, start: '2026-01-05' }))).toBe('2026-01-05T09:00:00+01:00');
    expect(iso(rotationAnchor({ ...weekly, start: '2026-01-06' }))).toBe('2026-01-12T09:00:00+01:00');
    expect(iso(rotationAnchor({ ...weekly, handoff: { weekday: 7, time: { hour: 18, minute: 30 } } }))).toBe(
      '2026-01-04T18:30:00+01:00',
    );
  });

  it('is the start date itself when the weekday is null', () => {
    const daily: RotationSpec = { ...weekly, shift: { unit: 'days', amount: 1 }, handoff: { weekday: null, time: { hour: 8, minute: 0 } } };
    expect(iso(rotationAnchor(daily))).toBe('2026-01-01T08:00:00+01:00');
  });

  it('is in the rotation zone', () => {
    expect(rotationAnchor({ ...weekly, timeZone: 'America/New_York' }).zoneName).toBe('America/New_York');
    expect(iso(rotationAnchor({ ...weekly, timeZone: 'America/New_York' }))).toBe('2026-01-05T09:00:00-05:00');
  });
});

describe('who is on call (weekly Mon 09:00 Berlin, alice/bob/carol)', () => {
  const cases: [string, string, number][] = [
    ['2025-12-22T09:00', 'bob', -2],
    ['2025-12-29T09:00', 'carol', -1],
    ['2026-01-05T08:59:59.999', 'carol', -1],
    ['2026-01-05T09:00', 'alice', 0],
    ['2026-01-08T23:00', 'alice', 0],
    ['2026-01-12T08:59:59.999', 'alice', 0],
    ['2026-01-12T09:00', 'bob', 1],
    ['2026-01-19T09:00', 'carol', 2],
    ['2026-01-26T09:00', 'alice', 3],
    ['2026-12-28T09:00', 'alice', 51],
  ];
  it.each(cases)('at %s it is %s (shift %d)', (local, member, k) => {
    expect(onCallAt(weekly, none, at(local)).member).toBe(member);
    expect(shiftIndexAt(weekly, at(local))).toBe(k);
  });

  it('reports the whole shift as the stretch', () => {
    expect(row(onCallAt(weekly, none, at('2026-01-14T03:00')))).toBe(
      'bob 2026-01-12T09:00:00+01:00 .. 2026-01-19T09:00:00+01:00',
    );
  });

  it('gives shift bounds for any k, negative included', () => {
    const b = shiftBounds(weekly, -1);
    expect([iso(b.start), iso(b.end)]).toEqual(['2025-12-29T09:00:00+01:00', '2026-01-05T09:00:00+01:00']);
    const c = shiftBounds(weekly, 2);
    expect([iso(c.start), iso(c.end)]).toEqual(['2026-01-19T09:00:00+01:00', '2026-01-26T09:00:00+01:00']);
  });
});

describe('shifts', () => {
  it('tiles a 4-week window, clipped at both ends', () => {
    const list = shifts(weekly, none, at('2026-01-07T00:00'), at('2026-02-04T00:00'));
    expect(list.map(row)).toEqual([
      'alice 2026-01-07T00:00:00+01:00 .. 2026-01-12T09:00:00+01:00',
      'bob 2026-01-12T09:00:00+01:00 .. 2026-01-19T09:00:00+01:00',
      'carol 2026-01-19T09:00:00+01:00 .. 2026-01-26T09:00:00+01:00',
      'alice 2026-01-26T09:00:00+01:00 .. 2026-02-02T09:00:00+01:00',
      'bob 2026-02-02T09:00:00+01:00 .. 2026-02-04T00:00:00+01:00',
    ]);
    expect(list.every((s) => !s.override && s.overrideId === undefined)).toBe(true);
  });

  it('returns [] for an empty or inverted window', () => {
    expect(shifts(weekly, none, at('2026-01-07T00:00'), at('2026-01-07T00:00'))).toEqual([]);
    expect(shifts(weekly, none, at('2026-01-08T00:00'), at('2026-01-07T00:00'))).toEqual([]);
  });

  it('returns every DateTime in the rotation zone, whatever zone the window was given in', () => {
    const from = DateTime.fromISO('2026-01-07T00:00Z', { setZone: true });
    const list = shifts(weekly, none, from, from.plus({ days: 10 }));
    expect(list[0]?.start.toMillis()).toBe(from.toMillis());
    for (const s of list) {
      expect(s.start.zoneName).toBe(ZONE);
      expect(s.end.zoneName).toBe(ZONE);
    }
  });

  it('keeps consecutive shifts of the same member apart (one-member rotation)', () => {
    const solo: RotationSpec = { ...weekly, members: ['alice'] };
    expect(shifts(solo, none, at('2026-01-05T09:00'), at('2026-01-26T09:00')).map(row)).toEqual([
      'alice 2026-01-05T09:00:00+01:00 .. 2026-01-12T09:00:00+01:00',
      'alice 2026-01-12T09:00:00+01:00 .. 2026-01-19T09:00:00+01:00',
      'alice 2026-01-19T09:00:00+01:00 .. 2026-01-26T09:00:00+01:00',
    ]);
  });
});

describe('overrides', () => {
  it('cut a shift; the rotation resumes with the right member', () => {
    const state: RotationState = {
      overrides: [override('o1', 'bob', '2026-01-07T12:00', '2026-01-08T12:00', 1)],
      absences: [],
    };
    expect(shifts(weekly, state, at('2026-01-05T09:00'), at('2026-01-19T09:00')).map(row)).toEqual([
      'alice 2026-01-05T09:00:00+01:00 .. 2026-01-07T12:00:00+01:00',
      'bob 2026-01-07T12:00:00+01:00 .. 2026-01-08T12:00:00+01:00 [o1]',
      'alice 2026-01-08T12:00:00+01:00 .. 2026-01-12T09:00:00+01:00',
      'bob 2026-01-12T09:00:00+01:00 .. 2026-01-19T09:00:00+01:00',
    ]);
    expect(row(onCallAt(weekly, state, at('2026-01-06T00:00')))).toBe(
      'alice 2026-01-05T09:00:00+01:00 .. 2026-01-07T12:00:00+01:00',
    );
    expect(row(onCallAt(weekly, state, at('2026-01-07T12:00')))).toBe(
      'bob 2026-01-07T12:00:00+01:00 .. 2026-01-08T12:00:00+01:00 [o1]',
    );
    expect(row(onCallAt(weekly, state, at('2026-01-08T12:00')))).toBe(
      'alice 2026-01-08T12:00:00+01:00 .. 2026-01-12T09:00:00+01:00',
    );
    expect(onCallAt(weekly, state, at('2026-01-12T09:00')).member).toBe('bob');
    expect(onCallAt(weekly, state, at('2026-01-19T09:00')).member).toBe('carol');
  });

  it('span a handoff as one stretch', () => {
    const state: RotationState = {
      overrides: [override('o1', 'carol', '2026-01-11T00:00', '2026-01-13T00:00', 1)],
      absences: [],
    };
    expect(shifts(weekly, state, at('2026-01-10T00:00'), at('2026-01-14T00:00')).map(row)).toEqual([
      'alice 2026-01-10T00:00:00+01:00 .. 2026-01-11T00:00:00+01:00',
      'carol 2026-01-11T00:00:00+01:00 .. 2026-01-13T00:00:00+01:00 [o1]',
      'bob 2026-01-13T00:00:00+01:00 .. 2026-01-14T00:00:00+01:00',
    ]);
    expect(row(onCallAt(weekly, state, at('2026-01-12T10:00')))).toBe(
      'carol 2026-01-11T00:00:00+01:00 .. 2026-01-13T00:00:00+01:00 [o1]',
    );
    // The rotation stretch after the override is cut by it: bob from the override's end.
    expect(row(onCallAt(weekly, state, at('2026-01-15T00:00')))).toBe(
      'bob 2026-01-13T00:00:00+01:00 .. 2026-01-19T09:00:00+01:00',
    );
  });

  it('stack: the later seq wins, and the earlier resumes when the later ends inside it', () => {
    const state: RotationState = {
      overrides: [
        override('b', 'bob', '2026-01-07T00:00', '2026-01-08T00:00', 2),
        override('a', 'carol', '2026-01-06T00:00', '2026-01-10T00:00', 1),
      ],
      absences: [],
    };
    expect(shifts(weekly, state, at('2026-01-05T09:00'), at('2026-01-12T09:00')).map(row)).toEqual([
      'alice 2026-01-05T09:00:00+01:00 .. 2026-01-06T00:00:00+01:00',
      'carol 2026-01-06T00:00:00+01:00 .. 2026-01-07T00:00:00+01:00 [a]',
      'bob 2026-01-07T00:00:00+01:00 .. 2026-01-08T00:00:00+01:00 [b]',
      'carol 2026-01-08T00:00:00+01:00 .. 2026-01-10T00:00:00+01:00 [a]',
      'alice 2026-01-10T00:00:00+01:00 .. 2026-01-12T09:00:00+01:00',
    ]);
    expect(row(onCallAt(weekly, state, at('2026-01-09T00:00')))).toBe(
      'carol 2026-01-08T00:00:00+01:00 .. 2026-01-10T00:00:00+01:00 [a]',
    );
    expect(row(onCallAt(weekly, state, at('2026-01-06T12:00')))).toBe(
      'carol 2026-01-06T00:00:00+01:00 .. 2026-01-07T00:00:00+01:00 [a]',
    );
  });

  it('stack: a lower seq under a higher one never shows', () => {
    const state: RotationState = {
      overrides: [
        override('a', 'carol', '2026-01-06T00:00', '2026-01-10T00:00', 5),
        override('b', 'bob', '2026-01-07T00:00', '2026-01-08T00:00', 2),
      ],
      absences: [],
    };
    expect(shifts(weekly, state, at('2026-01-06T00:00'), at('2026-01-10T00:00')).map(row)).toEqual([
      'carol 2026-01-06T00:00:00+01:00 .. 2026-01-10T00:00:00+01:00 [a]',
    ]);
  });

  it('with equal seq, the one listed later wins', () => {
    const state: RotationState = {
      overrides: [
        override('a', 'carol', '2026-01-06T00:00', '2026-01-08T00:00', 1),
        override('b', 'bob', '2026-01-07T00:00', '2026-01-09T00:00', 1),
      ],
      absences: [],
    };
    expect(shifts(weekly, state, at('2026-01-06T00:00'), at('2026-01-09T00:00')).map(row)).toEqual([
      'carol 2026-01-06T00:00:00+01:00 .. 2026-01-07T00:00:00+01:00 [a]',
      'bob 2026-01-07T00:00:00+01:00 .. 2026-01-09T00:00:00+01:00 [b]',
    ]);
  });

  it('by the shift owner still form their own stretch; empty overrides are ignored', () => {
    const state: RotationState = {
      overrides: [
        override('self', 'alice', '2026-01-07T00:00', '2026-01-08T00:00', 1),
        override('empty', 'bob', '2026-01-09T00:00', '2026-01-09T00:00', 2),
      ],
      absences: [],
    };
    expect(shifts(weekly, state, at('2026-01-06T00:00'), at('2026-01-10T00:00')).map(row)).toEqual([
      'alice 2026-01-06T00:00:00+01:00 .. 2026-01-07T00:00:00+01:00',
      'alice 2026-01-07T00:00:00+01:00 .. 2026-01-08T00:00:00+01:00 [self]',
      'alice 2026-01-08T00:00:00+01:00 .. 2026-01-10T00:00:00+01:00',
    ]);
  });

  it('win over absences', () => {
    const state: RotationState = {
      overrides: [override('o', 'bob', '2026-01-07T00:00', '2026-01-08T00:00', 1)],
      absences: [absence('bob', '2026-01-01T00:00', '2026-01-31T00:00')],
    };
    expect(onCallAt(weekly, state, at('2026-01-07T06:00')).member).toBe('bob');
  });
});

describe('absences (skip rule)', () => {
  it('give the shift to the next member; later shifts keep their owners', () => {
    const state: RotationState = { overrides: [], absences: [absence('bob', '2026-01-14T00:00', '2026-01-16T00:00')] };
    expect(shifts(weekly, state, at('2026-01-05T09:00'), at('2026-02-02T09:00')).map(row)).toEqual([
      'alice 2026-01-05T09:00:00+01:00 .. 2026-01-12T09:00:00+01:00',
      'carol 2026-01-12T09:00:00+01:00 .. 2026-01-19T09:00:00+01:00',
      'carol 2026-01-19T09:00:00+01:00 .. 2026-01-26T09:00:00+01:00',
      'alice 2026-01-26T09:00:00+01:00 .. 2026-02-02T09:00:00+01:00',
    ]);
  });

  it('skip past a next member who is also away, wrapping around', () => {
    const state: RotationState = {
      overrides: [],
      absences: [absence('bob', '2026-01-12T09:00', '2026-01-13T00:00'), absence('carol', '2026-01-18T00:00', '2026-01-25T00:00')],
    };
    // bob's shift 1: bob away, carol away (her absence overlaps the end of it) -> alice.
    expect(onCallAt(weekly, state, at('2026-01-15T00:00')).member).toBe('alice');
    // carol's shift 2: carol away, next is alice (mod 3), not bob.
    expect(onCallAt(weekly, state, at('2026-01-20T00:00')).member).toBe('alice');
  });

  it('are half-open: touching the shift at its start or end does not count', () => {
    const before: RotationState = { overrides: [], absences: [absence('bob', '2026-01-05T09:00', '2026-01-12T09:00')] };
    const after: RotationState = { overrides: [], absences: [absence('bob', '2026-01-19T09:00', '2026-01-26T09:00')] };
    expect(onCallAt(weekly, before, at('2026-01-15T00:00')).member).toBe('bob');
    expect(onCallAt(weekly, after, at('2026-01-15T00:00')).member).toBe('bob');
    const overlapping: RotationState = {
      overrides: [],
      absences: [{ member: 'bob', start: at('2026-01-05T09:00'), end: at('2026-01-12T09:00').plus({ milliseconds: 1 }) }],
    };
    expect(onCallAt(weekly, overlapping, at('2026-01-15T00:00')).member).toBe('carol');
  });

  it('leave the nominal member on call when everyone is away', () => {
    const state: RotationState = {
      overrides: [],
      absences: ['alice', 'bob', 'carol'].map((m) => absence(m, '2026-01-13T00:00', '2026-01-14T00:00')),
    };
    expect(onCallAt(weekly, state, at('2026-01-15T00:00')).member).toBe('bob');
  });

  it('ignore empty absences and members outside the rotation', () => {
    const state: RotationState = {
      overrides: [],
      absences: [absence('bob', '2026-01-14T00:00', '2026-01-14T00:00'), absence('zed', '2026-01-01T00:00', '2026-02-01T00:00')],
    };
    expect(onCallAt(weekly, state, at('2026-01-15T00:00')).member).toBe('bob');
  });
});

describe('hour and day shifts', () => {
  it('12-hour shifts are elapsed time, so the local handoff moves across DST', () => {
    const twelve: RotationSpec = {
      members: ['alice', 'bob'],
      shift: { unit: 'hours', amount: 12 },
      handoff: { weekday: null, time: { hour: 9, minute: 0 } },
      start: '2026-03-28',
      timeZone: ZONE,
    };
    const list = shifts(twelve, none, DateTime.fromISO('2026-03-28T09:00+01:00'), DateTime.fromISO('2026-03-30T10:00+02:00'));
    expect(list.map(row)).toEqual([
      'alice 2026-03-28T09:00:00+01:00 .. 2026-03-28T21:00:00+01:00',
      'bob 2026-03-28T21:00:00+01:00 .. 2026-03-29T10:00:00+02:00',
      'alice 2026-03-29T10:00:00+02:00 .. 2026-03-29T22:00:00+02:00',
      'bob 2026-03-29T22:00:00+02:00 .. 2026-03-30T10:00:00+02:00',
    ]);
    for (const s of list) expect(s.end.diff(s.start).as('hours')).toBe(12);
    expect(shiftIndexAt(twelve, DateTime.fromISO('2026-03-28T08:59+01:00'))).toBe(-1);
    expect(onCallAt(twelve, none, DateTime.fromISO('2026-03-28T08:59+01:00')).member).toBe('bob');
  });

  it('2-day shifts follow the wall clock', () => {
    const twoDays: RotationSpec = {
      members: ['alice', 'bob', 'carol'],
      shift: { unit: 'days', amount: 2 },
      handoff: { weekday: null, time: { hour: 8, minute: 0 } },
      start: '2026-01-01',
      timeZone: ZONE,
    };
    expect(row(onCallAt(twoDays, none, at('2026-01-04T12:00')))).toBe(
      'bob 2026-01-03T08:00:00+01:00 .. 2026-01-05T08:00:00+01:00',
    );
    // 2026-03-28 is 86 days after the anchor: shift 43, bob, spanning the spring-forward night.
    const b = shiftBounds(twoDays, 43);
    expect([iso(b.start), iso(b.end)]).toEqual(['2026-03-28T08:00:00+01:00', '2026-03-30T08:00:00+02:00']);
    expect(b.end.diff(b.start).as('hours')).toBe(47);
    expect(onCallAt(twoDays, none, at('2026-03-29T12:00')).member).toBe('bob');
  });

  it('a day rotation with a weekday anchors on that weekday', () => {
    const daily: RotationSpec = { ...weekly, shift: { unit: 'days', amount: 1 }, handoff: { weekday: 3, time: { hour: 9, minute: 0 } } };
    expect(iso(rotationAnchor(daily))).toBe('2026-01-07T09:00:00+01:00');
    expect(onCallAt(daily, none, at('2026-01-08T10:00')).member).toBe('bob');
  });
});

describe('nextHandoffAfter', () => {
  it('finds the next rotation boundary', () => {
    const h = nextHandoffAfter(weekly, none, at('2026-01-07T00:00'));
    expect(h && [iso(h.at), h.outgoing, h.incoming]).toEqual(['2026-01-12T09:00:00+01:00', 'alice', 'bob']);
  });

  it('is strictly after the instant', () => {
    const h = nextHandoffAfter(weekly, none, at('2026-01-12T09:00'));
    expect(h && [iso(h.at), h.outgoing, h.incoming]).toEqual(['2026-01-19T09:00:00+01:00', 'bob', 'carol']);
  });

  it('sees override starts and ends', () => {
    const state: RotationState = {
      overrides: [override('o1', 'bob', '2026-01-07T12:00', '2026-01-08T12:00', 1)],
      absences: [],
    };
    const first = nextHandoffAfter(weekly, state, at('2026-01-06T00:00'));
    expect(first && [iso(first.at), first.outgoing, first.incoming]).toEqual(['2026-01-07T12:00:00+01:00', 'alice', 'bob']);
    const second = nextHandoffAfter(weekly, state, at('2026-01-07T12:00'));
    expect(second && [iso(second.at), second.outgoing, second.incoming]).toEqual(['2026-01-08T12:00:00+01:00', 'bob', 'alice']);
  });

  it('skips boundaries where the member stays the same', () => {
    const state: RotationState = {
      overrides: [override('self', 'alice', '2026-01-07T00:00', '2026-01-08T00:00', 1)],
      absences: [absence('bob', '2026-01-13T00:00', '2026-01-14T00:00')],
    };
    // alice -> alice (override) -> alice -> carol (bob away) -> carol -> alice
    const h = nextHandoffAfter(weekly, state, at('2026-01-06T00:00'));
    expect(h && [iso(h.at), h.outgoing, h.incoming]).toEqual(['2026-01-12T09:00:00+01:00', 'alice', 'carol']);
    const next = nextHandoffAfter(weekly, state, at('2026-01-12T09:00'));
    expect(next && [iso(next.at), next.outgoing, next.incoming]).toEqual(['2026-01-26T09:00:00+01:00', 'carol', 'alice']);
  });

  it('returns null when nobody else comes within the search bound', () => {
    expect(nextHandoffAfter({ ...weekly, members: ['alice'] }, none, at('2026-01-07T00:00'))).toBeNull();
    const far: RotationState = {
      overrides: [override('far', 'bob', '2030-01-01T00:00', '2030-01-02T00:00', 1)],
      absences: [],
    };
    expect(nextHandoffAfter({ ...weekly, members: ['alice'] }, far, at('2026-01-07T00:00'))).toBeNull();
    const h = nextHandoffAfter({ ...weekly, members: ['alice'] }, far, at('2028-01-07T00:00'));
    expect(h && [iso(h.at), h.outgoing, h.incoming]).toEqual(['2030-01-01T00:00:00+01:00', 'alice', 'bob']);
  });
});

describe('contract violations', () => {
  it('throw RangeError', () => {
    const t = at('2026-01-07T00:00');
    expect(() => onCallAt({ ...weekly, members: [] }, none, t)).toThrow(RangeError);
    expect(() => onCallAt({ ...weekly, timeZone: 'Mars/Olympus' }, none, t)).toThrow(RangeError);
    expect(() => onCallAt({ ...weekly, start: '2026-02-30' }, none, t)).toThrow(RangeError);
    expect(() => onCallAt({ ...weekly, shift: { unit: 'weeks', amount: 0 } }, none, t)).toThrow(RangeError);
    expect(() => onCallAt({ ...weekly, shift: { unit: 'days', amount: 1.5 } }, none, t)).toThrow(RangeError);
    expect(() => shiftBounds(weekly, 1.5)).toThrow(RangeError);
    expect(() => onCallAt(weekly, none, DateTime.invalid('test'))).toThrow(RangeError);
  });
});

describe('performance', () => {
  it('a year of weekly shifts with 50 overrides, far from the anchor, is fast', () => {
    const overrides: Override[] = Array.from({ length: 50 }, (_, i) => ({
      id: `o${i}`,
      member: i % 2 ? 'bob' : 'dave',
      start: DateTime.fromISO('2036-01-01T00:00Z').plus({ days: i * 7 + 1 }),
      end: DateTime.fromISO('2036-01-01T00:00Z').plus({ days: i * 7 + 2, hours: 5 }),
      seq: i,
    }));
    const state: RotationState = { overrides, absences: [absence('carol', '2036-03-01T00:00', '2036-03-20T00:00')] };
    const from = DateTime.fromISO('2036-01-01T00:00Z');
    const to = DateTime.fromISO('2037-01-01T00:00Z');
    const began = performance.now();
    const list = shifts(weekly, state, from, to);
    const elapsed = performance.now() - began;
    expect(list.filter((s) => s.override)).toHaveLength(50);
    expect(list[0]?.start.toMillis()).toBe(from.toMillis());
    expect(list[list.length - 1]?.end.toMillis()).toBe(to.toMillis());
    expect(elapsed).toBeLessThan(250);
  });
});
