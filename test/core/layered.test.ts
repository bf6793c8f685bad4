/**
 * Layered schedules (src/core/rotation/layered.ts) through the core's schedule functions
 * (src/core/rotation/schedule.ts): priority, restrictions, overrides on top, gaps held by the lead,
 * absences within a layer, shadows; and DST, walked in small steps like rotation.dst.test.ts.
 */
import { DateTime } from 'luxon';
import type { RotationSpec } from '../../src/core/model';
import { layeredSpans, layerCoverage, shadowSpans, type Layer, type LayeredSettings, type WeeklyWindow } from '../../src/core/rotation/layered';
import { scheduleGaps, scheduleNextHandoff, scheduleOnCallAt, scheduleShifts, type BaseSchedule } from '../../src/core/rotation/schedule';
import type { Absence, Override, RotationState } from '../../src/core/rotation/types';
import type { Weekday } from '../../src/core/time/weekday-time';

const EMPTY: RotationState = { overrides: [], absences: [] };
const WEEKDAYS: Weekday[] = [1, 2, 3, 4, 5];

function spec(zone: string, members: string[], shift: RotationSpec['shift'], handoff: string, start = '2026-01-05'): RotationSpec {
  const m = /^(?:(\w{3}) )?(\d{2}):(\d{2})$/.exec(handoff) as RegExpExecArray;
  const weekday = m[1] ? ((['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(m[1]) + 1) as Weekday) : null;
  return { members, shift, handoff: { weekday, time: { hour: Number(m[2]), minute: Number(m[3]) } }, start, timeZone: zone };
}

/** daily: one window per weekday, `to <= from` ending the next day (as src/config reads it). */
function daily(days: Weekday[], from: string, to: string): WeeklyWindow[] {
  const [fh, fm] = from.split(':').map(Number) as [number, number];
  const [th, tm] = to.split(':').map(Number) as [number, number];
  return days.map((d) => ({ from: { weekday: d, time: { hour: fh, minute: fm } }, to: { weekday: (th * 60 + tm > fh * 60 + fm ? d : (d % 7) + 1) as Weekday, time: { hour: th, minute: tm } } }));
}

function layer(name: string, rotation: RotationSpec, restrictions: WeeklyWindow[] = [], shadow = false): Layer {
  return { name, rotation, restrictions, shadow };
}

/** The brief's example: weeknights (bob, daily 18:00) over a weekly primary on weekdays; erin shadows. */
function payments(zone = 'Europe/Berlin'): LayeredSettings {
  return {
    layers: [
      layer('weeknights', spec(zone, ['bob', 'dave'], { unit: 'days', amount: 1 }, '18:00'), daily(WEEKDAYS, '18:00', '09:00')),
      layer('primary', spec(zone, ['alice', 'dave'], { unit: 'weeks', amount: 1 }, 'Mon 09:00'), daily(WEEKDAYS, '09:00', '18:00')),
      layer('learning', spec(zone, ['erin'], { unit: 'weeks', amount: 1 }, 'Mon 09:00'), [], true),
    ],
  };
}

function base(settings: LayeredSettings, zone: string, absences: readonly Absence[] = []): BaseSchedule {
  return { spans: (from, to) => layeredSpans(settings, zone, absences, from, to) };
}

const at = (iso: string, zone = 'Europe/Berlin') => DateTime.fromISO(iso, { zone });
const frame = (zone = 'Europe/Berlin') => ({ timeZone: zone, gapHolder: 'carol' });
const row = (s: { member: string; start: DateTime; end: DateTime; gap?: true; layer?: string; override: boolean }) =>
  `${s.start.toFormat('ccc HH:mm')}-${s.end.toFormat('ccc HH:mm')} ${s.member}${s.gap ? ' gap' : ''}${s.layer ? ` ${s.layer}` : ''}${s.override ? ' override' : ''}`;

describe('layered schedules', () => {
  it('the first listed layer that has someone wins; uncovered time is a gap the lead holds', () => {
    const list = scheduleShifts(base(payments(), 'Europe/Berlin'), EMPTY, frame(), at('2026-03-05T12:00'), at('2026-03-07T12:00'));
    expect(list.map(row)).toEqual([
      'Thu 12:00-Thu 18:00 alice primary', // week 8 of [alice, dave]
      'Thu 18:00-Fri 09:00 dave weeknights', // day 59 of [bob, dave] (odd)
      'Fri 09:00-Fri 18:00 alice primary',
      'Fri 18:00-Sat 09:00 bob weeknights',
      'Sat 09:00-Sat 12:00 carol gap', // no layer covers the weekend
    ]);
    // The stretches tile the window.
    for (let i = 1; i < list.length; i++) expect(list[i]!.start.toMillis()).toBe(list[i - 1]!.end.toMillis());
  });

  it('names the gaps, and overrides stay on top (an override fills a gap, and wins over a layer)', () => {
    const b = base(payments(), 'Europe/Berlin');
    const from = at('2026-03-02T00:00');
    const to = at('2026-03-16T00:00');
    expect(scheduleGaps(b, EMPTY, frame(), from, to).map((g) => `${g.start.toFormat('ccc dd HH:mm')} → ${g.end.toFormat('ccc dd HH:mm')}`)).toEqual([
      'Mon 02 00:00 → Mon 02 09:00', // Sunday evening's window is not a weekday's
      'Sat 07 09:00 → Mon 09 09:00',
      'Sat 14 09:00 → Mon 16 00:00',
    ]);
    const override: Override = { id: 'o1', member: 'bob', start: at('2026-03-07T08:00'), end: at('2026-03-09T09:00'), seq: 1 };
    const state = { overrides: [override], absences: [] };
    expect(scheduleGaps(b, state, frame(), from, to)).toHaveLength(2);
    expect(row(scheduleOnCallAt(b, state, frame(), at('2026-03-07T08:30')))).toBe('Sat 08:00-Mon 09:00 bob override');
    expect(row(scheduleOnCallAt(b, state, frame(), at('2026-03-06T23:00')))).toBe('Fri 18:00-Sat 08:00 bob weeknights');
  });

  it('onCallAt shows a layer shift whole, cut only by the layers above it', () => {
    const b = base(payments(), 'Europe/Berlin');
    expect(row(scheduleOnCallAt(b, EMPTY, frame(), at('2026-03-04T13:00')))).toBe('Wed 09:00-Wed 18:00 alice primary');
    expect(row(scheduleOnCallAt(b, EMPTY, frame(), at('2026-03-07T13:00')))).toBe('Sat 09:00-Mon 09:00 carol gap');
    const next = scheduleNextHandoff(b, EMPTY, frame(), at('2026-03-04T13:00'));
    expect(next && `${next.at.toFormat('ccc HH:mm')} ${next.outgoing} → ${next.incoming}`).toBe('Wed 18:00 alice → bob');
  });

  it('an absence skips within its layer only (the next member of that layer, as today)', () => {
    // Thursday 5 March 18:00: dave's weeknight; dave is away that evening.
    const away: Absence[] = [{ member: 'dave', start: at('2026-03-05T20:00'), end: at('2026-03-05T22:00') }];
    const b = base(payments(), 'Europe/Berlin', away);
    expect(row(scheduleOnCallAt(b, { overrides: [], absences: away }, frame(), at('2026-03-05T21:00')))).toBe('Thu 18:00-Fri 09:00 bob weeknights');
    // His primary week is not touched: the absence does not overlap a primary shift of his.
    expect(scheduleOnCallAt(b, { overrides: [], absences: away }, frame(), at('2026-03-12T10:00')).member).toBe('dave');
  });

  it('a shadow layer has its own schedule and never takes part in who is on call', () => {
    const settings = payments();
    const shadows = shadowSpans(settings, 'Europe/Berlin', [], at('2026-03-07T00:00'), at('2026-03-08T00:00'));
    expect(shadows.map((s) => s.member)).toEqual(['erin']);
    const onCall = scheduleShifts(base(settings, 'Europe/Berlin'), EMPTY, frame(), at('2026-03-02T00:00'), at('2026-03-16T00:00'));
    expect(onCall.some((s) => s.member === 'erin')).toBe(false);
  });

  it('follow the sun in one zone: three restricted layers cover the day without a gap', () => {
    const zone = 'UTC';
    const sun: LayeredSettings = {
      layers: [
        layer('apac', spec(zone, ['kenji'], { unit: 'weeks', amount: 1 }, 'Mon 00:00'), daily([1, 2, 3, 4, 5, 6, 7], '00:00', '08:00')),
        layer('emea', spec(zone, ['alice'], { unit: 'weeks', amount: 1 }, 'Mon 00:00'), daily([1, 2, 3, 4, 5, 6, 7], '08:00', '16:00')),
        layer('amer', spec(zone, ['erin'], { unit: 'weeks', amount: 1 }, 'Mon 00:00'), daily([1, 2, 3, 4, 5, 6, 7], '16:00', '00:00')),
      ],
    };
    const b = base(sun, zone);
    expect(scheduleGaps(b, EMPTY, frame(zone), at('2026-03-02T00:00', zone), at('2026-03-30T00:00', zone))).toEqual([]);
    expect(scheduleShifts(b, EMPTY, frame(zone), at('2026-03-02T00:00', zone), at('2026-03-03T00:00', zone)).map((s) => s.member)).toEqual(['kenji', 'alice', 'erin']);
  });
});

describe('layered schedules across DST (walked in 15-minute steps)', () => {
  /**
   * covers: the wall-clock rule of a weekday-evening layer (18:00 to 09:00, starting Mon-Fri) read
   * independently from luxon's local fields; away from DST edges it must match the layer exactly.
   */
  const weeknight = (t: DateTime): boolean => {
    const minutes = t.hour * 60 + t.minute;
    if (minutes >= 18 * 60) return t.weekday <= 5;
    if (minutes < 9 * 60) return t.minus({ days: 1 }).weekday <= 5;
    return false;
  };
  const weekend = (t: DateTime): boolean => {
    // Sat 09:00 to Mon 09:00.
    const minutes = t.hour * 60 + t.minute;
    return (t.weekday === 6 && minutes >= 9 * 60) || t.weekday === 7 || (t.weekday === 1 && minutes < 9 * 60);
  };

  for (const [zone, day] of [
    ['Europe/Berlin', '2026-03-26'], ['Europe/Berlin', '2026-10-22'],
    ['America/New_York', '2026-03-05'], ['America/New_York', '2026-10-29'],
    ['Australia/Lord_Howe', '2026-04-02'], ['Australia/Lord_Howe', '2026-10-01'],
  ] as const) {
    it(`${zone} around ${day}: the layers cover exactly their wall-clock windows`, () => {
      const settings: LayeredSettings = {
        layers: [
          layer('weeknights', spec(zone, ['bob'], { unit: 'days', amount: 1 }, '18:00'), daily(WEEKDAYS, '18:00', '09:00')),
          layer('weekend', spec(zone, ['carl'], { unit: 'weeks', amount: 1 }, 'Sat 09:00'), [{ from: { weekday: 6, time: { hour: 9, minute: 0 } }, to: { weekday: 1, time: { hour: 9, minute: 0 } } }]),
        ],
      };
      const from = DateTime.fromISO(`${day}T00:00`, { zone });
      const to = from.plus({ days: 6 });
      const shifts = scheduleShifts(base(settings, zone), EMPTY, { timeZone: zone, gapHolder: 'lead' }, from, to);
      for (let t = from; t < to; t = t.plus({ minutes: 15 })) {
        const s = shifts.find((x) => x.start <= t && t < x.end);
        const expected = weeknight(t) ? 'bob' : weekend(t) ? 'carl' : 'lead';
        if (s?.member !== expected) throw new Error(`${zone} ${t.toISO()}: ${s?.member} on call, expected ${expected}`);
      }
      // Wall-clock edges: every stretch starts and ends at 09:00 or 18:00 local (or the window's edges).
      for (const s of shifts) for (const edge of [s.start, s.end]) if (edge > from && edge < to) expect(['09:00', '18:00']).toContain(edge.toFormat('HH:mm'));
    });
  }

  it('the weekend window lasts 47 hours over spring forward and 49 over fall back (Berlin)', () => {
    const weekend: Layer = layer('weekend', spec('Europe/Berlin', ['carl'], { unit: 'weeks', amount: 1 }, 'Sat 09:00'), [{ from: { weekday: 6, time: { hour: 9, minute: 0 } }, to: { weekday: 1, time: { hour: 9, minute: 0 } } }]);
    const hours = (a: string, b: string) => layerCoverage(weekend, 'Europe/Berlin', at(a).toMillis(), at(b).toMillis()).map(([s, e]) => (e - s) / 3_600_000);
    expect(hours('2026-03-27T00:00', '2026-03-31T00:00')).toEqual([47]);
    expect(hours('2026-10-23T00:00', '2026-10-27T00:00')).toEqual([49]);
  });

  it('a window edge in a DST gap moves forward by the gap; in a fold it is the first occurrence (Lord Howe: 30 minutes)', () => {
    const zone = 'Australia/Lord_Howe';
    const early: Layer = layer('early', spec(zone, ['bob'], { unit: 'days', amount: 1 }, '00:00'), daily([7], '02:15', '06:00'));
    // Sunday 4 October 2026: 02:00 jumps to 02:30, so 02:15 does not exist: the window starts at 02:45 (+11:00).
    const [gap] = layerCoverage(early, zone, DateTime.fromISO('2026-10-04T00:00', { zone }).toMillis(), DateTime.fromISO('2026-10-05T00:00', { zone }).toMillis());
    expect(DateTime.fromMillis(gap![0], { zone }).toISO()).toBe('2026-10-04T02:45:00.000+11:00');
    // Sunday 5 April 2026: 02:00 falls back to 01:30, so 01:45 happens twice: the first (+11:00).
    const fold: Layer = layer('fold', spec(zone, ['bob'], { unit: 'days', amount: 1 }, '00:00'), daily([7], '01:45', '06:00'));
    const [first] = layerCoverage(fold, zone, DateTime.fromISO('2026-04-05T00:00', { zone }).toMillis(), DateTime.fromISO('2026-04-06T00:00', { zone }).toMillis());
    expect(DateTime.fromMillis(first![0], { zone: 'UTC' }).toISO()).toBe('2026-04-04T14:45:00.000Z');
  });
});
