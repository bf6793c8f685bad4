import { PairMap, TripleMap } from '../../src/core/keyed-maps';

describe('PairMap and TripleMap', () => {
  it('count each key once, whatever the nesting, and forget emptied branches', () => {
    const pairs = new PairMap<number>();
    pairs.set('prom', 'a', 1);
    pairs.set('prom', 'a', 2); // overwrite: still one pair
    pairs.set('prom', 'b', 3);
    pairs.set('grafana', 'a', 4);
    expect(pairs.size).toBe(3);
    expect(pairs.get('prom', 'a')).toBe(2);
    expect(pairs.has('grafana', 'b')).toBe(false);
    pairs.delete('prom', 'zzz'); // absent: nothing changes
    pairs.delete('grafana', 'a');
    expect(pairs.size).toBe(2);
    expect([...pairs.values()].sort()).toEqual([2, 3]);
    const seen: string[] = [];
    pairs.forEach((v, a, b) => seen.push(`${a}/${b}=${v}`));
    expect(seen.sort()).toEqual(['prom/a=2', 'prom/b=3']);
    pairs.clear();
    expect(pairs.size).toBe(0);
    expect(pairs.get('prom', 'a')).toBeUndefined();
  });

  it('keep keys apart that one joined string would confuse', () => {
    // "a\u0000b" + "c" and "a" + "b\u0000c" were the same key when the parts were joined with \u0000.
    const triples = new TripleMap<string>();
    triples.set('i', 'a\u0000b', 'c', 'first');
    triples.set('i', 'a', 'b\u0000c', 'second');
    expect(triples.size).toBe(2);
    expect(triples.get('i', 'a\u0000b', 'c')).toBe('first');
    expect(triples.get('i', 'a', 'b\u0000c')).toBe('second');
    triples.set('i', 'a', 'b\u0000c', 'again');
    expect(triples.size).toBe(2);
    triples.delete('i', 'a\u0000b', 'c');
    triples.delete('i', 'a\u0000b', 'c');
    expect(triples.size).toBe(1);
    const seen: string[] = [];
    triples.forEach((v, a, b, c) => seen.push([a, b, c, v].join('|')));
    expect(seen).toEqual(['i|a|b\u0000c|again']);
  });
});
