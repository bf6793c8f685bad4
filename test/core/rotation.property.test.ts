/**
 * Property tests for the rotation: random specs (zones with odd DST rules), overrides, absences
 * and windows, mostly placed around DST changes, checked against invariants rather than examples.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { RotationSpec } from '../../src/core/model';
import type { Weekday } from '../../src/core/time/weekday-time';
import {
  nextHandoffAfter,
  onCallAt,
  rotationAnchor,
  shiftBounds,
  shiftIndexAt,
  shifts,
} from '../../src/core/rotation/rotation';
import type { Absence, Override, RotationState, Shift } from '../../src/core/rotation/types';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham'];
const POOL = ['alice', 'bob', 'carol', 'dave', 'erin'];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** DST changes of 2026 in the zones above: windows are centred near them to hit gaps and folds. */
const CENTRES = [
  '2026-03-29T01:00:00Z', // Berlin spring
  '2026-10-25T01:00:00Z', // Berlin fall
  '2026-03-08T07:00:00Z', // New York spring
  '2026-11-01T06:00:00Z', // New York fall
  '2026-04-04T15:00:00Z', // Lord Howe fall
  '2026-10-03T15:30:00Z', // Lord Howe spring
  '2026-04-04T14:00:00Z', // Chatham fall
  '2026-09-26T14:00:00Z', // Chatham spring
  '2027-06-15T00:00:00Z', // nothing in particular
].map((s) => Date.parse(s));

const specArb: fc.Arbitrary<RotationSpec> = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    unit: fc.constantFrom('hours' as const, 'days' as const, 'weeks' as const),
    amount: fc.integer({ min: 1, max: 3 }),
    weekday: fc.option(fc.integer({ min: 1, max: 7 }), { nil: null }),
    hour: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: 0, max: 23 })),
    minute: fc.oneof(fc.constantFrom(0, 15, 30, 45), fc.integer({ min: 0, max: 59 })),
    members: fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 1, maxLength: 5 }),
    startDay: fc.integer({ min: 0, max: 730 }),
  })
  .map((r) => ({
    members: r.members,
    shift: { unit: r.unit, amount: r.amount },
    handoff: { weekday: r.weekday as Weekday | null, time: { hour: r.hour, minute: r.minute } },
    start: new Date(Date.parse('2025-06-01T00:00:00Z') + r.startDay * DAY).toISOString().slice(0, 10),
    timeZone: r.zone,
  }));

/** An instant near one of the DST changes (within about 3 weeks), at minute precision. */
const instantArb = fc
  .tuple(fc.constantFrom(...CENTRES), fc.integer({ min: -21 * 24 * 60, max: 21 * 24 * 60 }))
  .map(([centre, minutes]) => centre + minutes * MINUTE);

const windowArb = fc
  .tuple(instantArb, fc.oneof(fc.integer({ min: 1, max: 3 * 24 * 60 }), fc.integer({ min: 1, max: 40 * 24 * 60 })))
  .map(([from, minutes]) => [from, from + minutes * MINUTE] as const);

const intervalArb = fc
  .tuple(instantArb, fc.integer({ min: 0, max: 10 * 24 * 60 }))
  .map(([start, minutes]) => [start, start + minutes * MINUTE] as const);

const overridesArb: fc.Arbitrary<Override[]> = fc
  .array(fc.tuple(fc.constantFrom(...POOL, 'zed'), intervalArb, fc.integer({ min: 0, max: 6 })), { maxLength: 6 })
  .map((list) =>
    list.map(([member, [start, end], seq], i) => ({
      id: `o${i}`,
      member,
      start: DateTime.fromMillis(start, { zone: 'UTC' }),
      end: DateTime.fromMillis(end, { zone: 'UTC' }),
      seq,
    })),
  );

const absencesArb: fc.Arbitrary<Absence[]> = fc
  .array(fc.tuple(fc.constantFrom(...POOL), intervalArb), { maxLength: 4 })
  .map((list) =>
    list.map(([member, [start, end]]) => ({
      member,
      start: DateTime.fromMillis(start, { zone: 'UTC' }),
      end: DateTime.fromMillis(end, { zone: 'UTC' }),
    })),
  );

const caseArb = fc.record({
  spec: specArb,
  overrides: overridesArb,
  absences: absencesArb,
  window: windowArb,
  probes: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 6 }),
});

/** ROTATION_RUNS=5000 npx jest test/core/rotation.property for a longer hunt; the default stays quick. */
const RUNS = { numRuns: Number(process.env.ROTATION_RUNS ?? 150) };

function dt(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: 'UTC' });
}

/** naiveWinner: the override on call at t by the documented rule, written independently. */
function naiveWinner(overrides: readonly Override[], t: number): string | undefined {
  const covering = overrides
    .map((o, order) => ({ o, order }))
    .filter(({ o }) => o.start.toMillis() <= t && t < o.end.toMillis());
  covering.sort((a, b) => a.o.seq - b.o.seq || a.order - b.order);
  return covering[covering.length - 1]?.o.id;
}

function pieceAt(list: readonly Shift[], t: number): Shift {
  const piece = list.find((s) => s.start.toMillis() <= t && t < s.end.toMillis());
  if (!piece) throw new Error(`no stretch contains ${new Date(t).toISOString()}`);
  return piece;
}

describe('rotation properties', () => {
  it('shifts tile the window exactly, in the rotation zone, with no mergeable neighbours', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, overrides, absences, window: [a, b] }) => {
        const list = shifts(spec, { overrides, absences }, dt(a), dt(b));
        expect(list.length).toBeGreaterThan(0);
        expect(list[0]?.start.toMillis()).toBe(a);
        expect(list[list.length - 1]?.end.toMillis()).toBe(b);
        list.forEach((s, i) => {
          expect(s.end.toMillis()).toBeGreaterThan(s.start.toMillis());
          expect(s.start.zoneName).toBe(spec.timeZone);
          expect(s.end.zoneName).toBe(spec.timeZone);
          const next = list[i + 1];
          if (!next) return;
          expect(next.start.toMillis()).toBe(s.end.toMillis());
          if (s.override && next.override) expect(next.overrideId).not.toBe(s.overrideId);
          if (!s.override && !next.override) {
            expect(shiftIndexAt(spec, next.start)).not.toBe(shiftIndexAt(spec, s.start));
          }
        });
      }),
      RUNS,
    );
  });

  it('overrides win: every stretch carries the override the rule picks, all along its length', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, overrides, absences, window: [a, b] }) => {
        const list = shifts(spec, { overrides, absences }, dt(a), dt(b));
        const endpoints = overrides.flatMap((o) => [o.start.toMillis(), o.end.toMillis()]);
        for (const s of list) {
          const from = s.start.toMillis();
          const to = s.end.toMillis();
          // The winner can only change at an override endpoint, so these points cover the stretch.
          for (const q of [from, ...endpoints.filter((e) => e > from && e < to)]) {
            expect(s.override ? s.overrideId : undefined).toBe(naiveWinner(overrides, q));
          }
          if (s.override) expect(s.member).toBe(overrides.find((o) => o.id === s.overrideId)?.member);
        }
        // Every override's winning part appears as its own stretches, for its member.
        for (const o of overrides) {
          for (const q of [o.start.toMillis(), o.end.toMillis() - 1]) {
            if (q < a || q >= b || naiveWinner(overrides, q) !== o.id) continue;
            const piece = pieceAt(list, q);
            expect([piece.override, piece.overrideId, piece.member]).toEqual([true, o.id, o.member]);
          }
        }
      }),
      RUNS,
    );
  });

  it('onCallAt agrees with the stretch of shifts() containing the instant', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, overrides, absences, window: [a, b], probes }) => {
        const state: RotationState = { overrides, absences };
        const list = shifts(spec, state, dt(a), dt(b));
        const points = [...probes.map((p) => a + Math.floor(p * (b - a))), ...list.map((s) => s.start.toMillis())];
        for (const t of points) {
          const piece = pieceAt(list, t);
          const got = onCallAt(spec, state, dt(t));
          expect([got.member, got.override, got.overrideId]).toEqual([piece.member, piece.override, piece.overrideId]);
          expect(got.start.zoneName).toBe(spec.timeZone);
          const [ps, pe, gs, ge] = [piece.start.toMillis(), piece.end.toMillis(), got.start.toMillis(), got.end.toMillis()];
          if (ps > a) expect(gs).toBe(ps);
          else expect(gs).toBeLessThanOrEqual(ps);
          if (pe < b) expect(ge).toBe(pe);
          else expect(ge).toBeGreaterThanOrEqual(pe);
        }
      }),
      RUNS,
    );
  });

  it('outside overrides the rotation is exactly the rotation without overrides', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, overrides, absences, window: [a, b] }) => {
        const withOverrides = shifts(spec, { overrides, absences }, dt(a), dt(b));
        const plain = shifts(spec, { overrides: [], absences }, dt(a), dt(b));
        expect(plain.every((s) => !s.override)).toBe(true);
        for (const s of withOverrides) {
          if (s.override) continue;
          const base = pieceAt(plain, s.start.toMillis());
          expect(s.member).toBe(base.member);
          expect(s.start.toMillis()).toBeGreaterThanOrEqual(base.start.toMillis());
          expect(s.end.toMillis()).toBeLessThanOrEqual(base.end.toMillis());
        }
      }),
      RUNS,
    );
  });

  it('the skip rule: a shift goes to the first member, from the nominal one on, who is not away', () => {
    fc.assert(
      fc.property(specArb, absencesArb, instantArb, (spec, absences, t) => {
        const k = shiftIndexAt(spec, dt(t));
        const { start, end } = shiftBounds(spec, k);
        const n = spec.members.length;
        const away = (m: string): boolean =>
          absences.some((x) => x.member === m && x.start < x.end && x.start < end && x.end > start);
        const order = Array.from({ length: n }, (_, i) => spec.members[(((k + i) % n) + n) % n] as string);
        const expected = order.find((m) => !away(m)) ?? order[0];
        expect(onCallAt(spec, { overrides: [], absences }, dt(t)).member).toBe(expected);
      }),
      RUNS,
    );
  });

  it('boundaries follow the documented calendar: wall clock for days/weeks, elapsed time for hours', () => {
    fc.assert(
      fc.property(specArb, instantArb, (spec, t) => {
        const anchor = rotationAnchor(spec);
        const anchorDate = DateTime.fromISO(spec.start, { zone: 'UTC' });
        expect(anchor.zoneName).toBe(spec.timeZone);
        const k = shiftIndexAt(spec, dt(t));
        const b = shiftBounds(spec, k);
        expect(b.start.toMillis()).toBeLessThanOrEqual(t);
        expect(b.end.toMillis()).toBeGreaterThan(t);
        expect(shiftBounds(spec, k + 1).start.toMillis()).toBe(b.end.toMillis());
        const { unit, amount } = spec.shift;
        if (unit === 'hours') {
          expect(b.start.toMillis() - anchor.toMillis()).toBe(k * amount * 3_600_000);
          expect(b.end.diff(b.start).as('hours')).toBe(amount);
          return;
        }
        // Local date: the anchor's date plus k steps; the anchor's date is on/after the start date.
        const stepDays = unit === 'weeks' ? 7 * amount : amount;
        const anchorDay = DateTime.fromObject({ year: anchor.year, month: anchor.month, day: anchor.day }, { zone: 'UTC' });
        const offsetDays = anchorDay.diff(anchorDate, 'days').days;
        expect(offsetDays).toBeGreaterThanOrEqual(0);
        expect(offsetDays).toBeLessThan(7);
        if (spec.handoff.weekday !== null) expect(anchor.weekday).toBe(spec.handoff.weekday);
        const wanted = anchorDay.plus({ days: k * stepDays });
        const local = b.start;
        expect([local.year, local.month, local.day]).toEqual([wanted.year, wanted.month, wanted.day]);
        const { hour, minute } = spec.handoff.time;
        if (local.hour !== hour || local.minute !== minute) {
          // Only in a spring-forward gap: the wall time is missing, and we moved forward by the gap.
          const shifted = DateTime.fromObject({ year: wanted.year, month: wanted.month, day: wanted.day, hour, minute }, { zone: spec.timeZone });
          expect([shifted.hour, shifted.minute]).not.toEqual([hour, minute]);
          expect(local.toMillis()).toBe(shifted.toMillis());
        } else {
          // In a fold, the earlier occurrence: no earlier instant shows the same wall time.
          for (const back of [30, 60]) {
            const earlier = local.minus({ minutes: back });
            expect([earlier.hour, earlier.minute]).not.toEqual([hour, minute]);
          }
        }
      }),
      RUNS,
    );
  });

  it('nextHandoffAfter finds the first change of member after the instant', () => {
    fc.assert(
      fc.property(specArb, overridesArb, absencesArb, instantArb, (spec, overrides, absences, t) => {
        const state: RotationState = { overrides, absences };
        const h = nextHandoffAfter(spec, state, dt(t));
        const current = onCallAt(spec, state, dt(t)).member;
        if (h === null) {
          const list = shifts(spec, state, dt(t), dt(t + 60 * DAY));
          expect(list.every((s) => s.member === current)).toBe(true);
          return;
        }
        const at = h.at.toMillis();
        expect(at).toBeGreaterThan(t);
        expect(h.at.zoneName).toBe(spec.timeZone);
        expect(h.outgoing).toBe(current);
        expect(h.incoming).not.toBe(h.outgoing);
        expect(onCallAt(spec, state, h.at).member).toBe(h.incoming);
        if (at - t <= 120 * DAY) {
          expect(shifts(spec, state, dt(t), h.at).every((s) => s.member === current)).toBe(true);
        }
      }),
      { numRuns: Math.ceil(RUNS.numRuns * 0.7) },
    );
  });
});
