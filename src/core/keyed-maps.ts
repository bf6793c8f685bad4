/**
 * Maps keyed by two or three strings, kept as nested Maps: the intake's groups (integration,
 * fingerprint) and alerts (integration, fingerprint, alert key). A busy webhook looks every alert
 * up several times per request (the store's memory, the repeat sums, the batch's plan): with one
 * key string built per lookup (`integration \0 fingerprint \0 key`) each lookup built, flattened
 * and hashed a new string and compared it with the stored one character by character. Nested Maps
 * look up the strings the webhook's JSON gave, each hashed once (an Alertmanager alert's
 * fingerprint and alert key are the same string), and build nothing.
 */

/** PairMap: values by (a, b). `size` counts pairs. */
export class PairMap<V> {
  private readonly outer = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: string, b: string): V | undefined {
    return this.outer.get(a)?.get(b);
  }

  has(a: string, b: string): boolean {
    return this.outer.get(a)?.has(b) ?? false;
  }

  set(a: string, b: string, value: V): void {
    let inner = this.outer.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.outer.set(a, inner);
    }
    const before = inner.size;
    inner.set(b, value);
    this.count += inner.size - before;
  }

  delete(a: string, b: string): void {
    const inner = this.outer.get(a);
    if (inner?.delete(b)) {
      this.count--;
      if (inner.size === 0) this.outer.delete(a);
    }
  }

  clear(): void {
    this.outer.clear();
    this.count = 0;
  }

  forEach(fn: (value: V, a: string, b: string) => void): void {
    for (const [a, inner] of this.outer) for (const [b, value] of inner) fn(value, a, b);
  }

  *values(): IterableIterator<V> {
    for (const inner of this.outer.values()) yield* inner.values();
  }
}

/** TripleMap: values by (a, b, c). `size` counts triples. */
export class TripleMap<V> {
  private readonly outer = new PairMap<Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: string, b: string, c: string): V | undefined {
    return this.outer.get(a, b)?.get(c);
  }

  set(a: string, b: string, c: string, value: V): void {
    let inner = this.outer.get(a, b);
    if (inner === undefined) {
      inner = new Map();
      this.outer.set(a, b, inner);
    }
    const before = inner.size;
    inner.set(c, value);
    this.count += inner.size - before;
  }

  delete(a: string, b: string, c: string): void {
    const inner = this.outer.get(a, b);
    if (inner?.delete(c)) {
      this.count--;
      if (inner.size === 0) this.outer.delete(a, b);
    }
  }

  clear(): void {
    this.outer.clear();
    this.count = 0;
  }

  forEach(fn: (value: V, a: string, b: string, c: string) => void): void {
    this.outer.forEach((inner, a, b) => {
      for (const [c, value] of inner) fn(value, a, b, c);
    });
  }

  *values(): IterableIterator<V> {
    for (const inner of this.outer.values()) yield* inner.values();
  }
}
