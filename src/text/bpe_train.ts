/** Training byte-level BPE: the merge loop and its helpers (see bpe.ts for the tokenizer). */

/**
 * The BPE merge loop with incremental pair counts: only the words that contain the merged pair are
 * recounted, and a lazy max-heap finds the next most frequent pair (ties: the smaller pair key).
 */
export function learnMerges(
  words: { ids: number[]; n: number }[],
  firstId: number,
  maxMerges: number,
  minFreq: number,
): [number, number][] {
  const key = (a: number, b: number) => a * PAIR_SHIFT + b;
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>(); // pair -> words that contained it (may be stale)
  const heap = new PairHeap();
  const addWord = (w: number, sign: 1 | -1) => {
    const { ids, n } = words[w];
    for (let i = 0; i + 1 < ids.length; i++) {
      const k = key(ids[i], ids[i + 1]);
      const c = (counts.get(k) ?? 0) + sign * n;
      if (c > 0) counts.set(k, c);
      else counts.delete(k);
      if (sign > 0) {
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(w);
        heap.push(c, k);
      }
    }
  };
  words.forEach((_, w) => addWord(w, 1));
  const merges: [number, number][] = [];
  while (merges.length < maxMerges) {
    let top = heap.pop();
    while (top && counts.get(top.key) !== top.count) top = heap.pop(); // skip stale heap entries
    if (!top || top.count < minFreq) break;
    const a = Math.floor(top.key / PAIR_SHIFT);
    const b = top.key % PAIR_SHIFT;
    const id = firstId + merges.length;
    merges.push([a, b]);
    for (const w of where.get(top.key) ?? []) {
      addWord(w, -1);
      words[w].ids = mergePair(words[w].ids, a, b, id);
      addWord(w, 1);
    }
    where.delete(top.key);
  }
  return merges;
}

export const PAIR_SHIFT = 1 << 21; // ids stay below 2^21, so a * 2^21 + b is an exact pair key

/** Max-heap of (count, pair key); larger count first, then smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  private before(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.counts.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } | undefined {
    if (this.counts.length === 0) return undefined;
    const top = { count: this.counts[0], key: this.keys[0] };
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < this.counts.length && this.before(l, m)) m = l;
      if (r < this.counts.length && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/** Replaces each non-overlapping (a, b) in ids, left to right, by id. */
export function mergePair(ids: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
      out.push(id);
      i++;
    } else out.push(ids[i]);
  }
  return out;
}
