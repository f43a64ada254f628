/**
 * A set of target keys kept as 64-bit fingerprints in a typed-array hash table: 8-16 bytes a key
 * instead of ~80 for a Set<string>, so a rollout over millions of targets can tell duplicates
 * without holding the names. Two different keys share a fingerprint with probability about
 * n^2 / 2^65 (3e-8 for a million keys); such a key would be taken for a duplicate.
 */
export class RolloutKeySet {
  #slots: Uint32Array;
  #mask: number;
  #size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.#slots = new Uint32Array(cap * 2);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the key; returns false when it (or its fingerprint) was already there. */
  add(key: string): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 = (h1 ^ (h1 >>> 16)) >>> 0;
    h2 = (Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) ^ key.length) >>> 0;
    // (0, 0) marks an empty slot
    if (h1 === 0 && h2 === 0) h2 = 1;
    if (this.#probe(h1, h2)) return false;
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    this.#insert(h1, h2);
    this.#size += 1;
    return true;
  }

  #probe(h1: number, h2: number): boolean {
    const s = this.#slots;
    for (let i = h1 & this.#mask; ; i = (i + 1) & this.#mask) {
      const a = s[i * 2]!;
      const b = s[i * 2 + 1]!;
      if (a === 0 && b === 0) return false;
      if (a === h1 && b === h2) return true;
    }
  }

  #insert(h1: number, h2: number): void {
    const s = this.#slots;
    let i = h1 & this.#mask;
    while (s[i * 2] !== 0 || s[i * 2 + 1] !== 0) i = (i + 1) & this.#mask;
    s[i * 2] = h1;
    s[i * 2 + 1] = h2;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    this.#mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i]!;
      const b = old[i + 1]!;
      if (a !== 0 || b !== 0) this.#insert(a, b);
    }
  }
}
