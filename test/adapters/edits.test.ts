import { editKey, editsEarlier, newsNotice, remembers } from '../../adapters/shared/edits';
import { message, type MessageKind } from '../../src/core/messages/message';

const msg = (kind: MessageKind, updateKey?: string) => ({ ...message(kind, ['x']), ...(updateKey ? { updateKey } : {}) });
const channel = { kind: 'channel', team: 'payments' } as const;
const dave = { kind: 'member', id: 'dave' } as const;

describe('which messages platforms edit (shared by Discord and Teams)', () => {
  it('incident records and updates edit the earlier message; pages, huddles and notices post anew', () => {
    expect(['incident-record', 'incident-update'].map((k) => editsEarlier(msg(k as MessageKind)))).toEqual([true, true]);
    expect(['page', 'huddle', 'notice', 'reply'].map((k) => editsEarlier(msg(k as MessageKind)))).toEqual([false, false, false, false]);
    expect(editsEarlier(msg('notice', 'storm:1'))).toBe(true);
  });

  it('a page that fell back to the channel never takes the place of the incident\'s channel record', () => {
    expect(remembers(channel, msg('page'))).toBe(false);
    expect(remembers(channel, msg('incident-record'))).toBe(true);
    expect(remembers(dave, msg('page'))).toBe(true);
    expect(remembers(dave, msg('notice'))).toBe(false);
  });

  it('keys versions by updateKey, else by incident and recipient', () => {
    expect(editKey(dave, msg('notice', 'storm:7'), 3)).toBe('upd:storm:7:m:dave');
    expect(editKey(channel, msg('incident-record'), 3)).toBe('msg:3:c:payments');
    expect(editKey(dave, msg('notice'), null)).toBeNull();
  });

  it('news to a person (ack, resolve, reassign, a reporter\'s note) also posts its headline as a short notice; the channel record never does', () => {
    const news = { ...message('incident-update', ['#3 [sev2] db down acknowledged by Carol'], { lines: [['more']], actions: ['resolve'], mentions: ['dave'] }), news: true };
    expect(newsNotice(dave, news)).toEqual({ kind: 'notice', headline: ['#3 [sev2] db down acknowledged by Carol'], lines: [], actions: [], mentions: ['dave'] });
    expect(newsNotice({ kind: 'guest', adapter: 'teams', address: '29:zed', name: 'Zed' }, news)?.kind).toBe('notice');
    expect(newsNotice(channel, news)).toBeNull();
    expect(newsNotice(channel, { ...msg('incident-record'), news: true })).toBeNull();
    // A quiet update (a storm summary growing) and messages that post anyway add nothing.
    expect(newsNotice(dave, msg('incident-update', 'storm:1'))).toBeNull();
    expect(newsNotice(dave, { ...msg('page'), news: true })).toBeNull();
  });
});
