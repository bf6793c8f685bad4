/**
 * The test world: team "payments" (Europe/Berlin, weekly Monday 09:00 from 2026-01-05:
 * alice, bob, dave in turn; lead carol) and team "search" (America/New_York, daily 08:00: erin,
 * frank; lead frank). Mentors: alice→bob, bob→dave, dave→alice, erin→frank.
 * On Tuesday 2026-03-03 dave is on call for payments (week 8 of the rotation).
 */
export const TEST_CONFIG = `
admins: [root]
members:
  - { id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob }
  - { id: bob, name: Bob, time_zone: Europe/Berlin, mentor: dave }
  - { id: carol, name: Carol, time_zone: Europe/Berlin }
  - { id: dave, name: Dave, time_zone: Europe/London, mentor: alice }
  - { id: erin, name: Erin, time_zone: America/New_York, mentor: frank }
  - { id: frank, name: Frank, time_zone: America/New_York }
  - { id: root, name: Root, time_zone: UTC }
teams:
  - id: payments
    name: Payments
    time_zone: Europe/Berlin
    lead: carol
    members: [alice, bob, dave]
    rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }
    escalation: { ack_timeout: 5m, renotify: 1, then: [mentor, lead] }
  - id: search
    name: Search
    time_zone: America/New_York
    lead: frank
    members: [erin, frank]
    rotation: { shift: 1d, handoff: "08:00", start: 2026-01-05 }
`;

/** A Tuesday, mid-shift: dave is on call for payments. */
export const TUESDAY = '2026-03-03T10:00:00Z';
