import { makeStream, type Stream } from '../timeline/timeline.js';

/** A growable [T, dim] float32 matrix (amortised doubling), turned into a Stream at the end. */
export class RowBuffer {
  readonly dim: number;
  private data: Float32Array;
  private rows = 0;

  constructor(dim: number, capacityRows = 256) {
    this.dim = dim;
    this.data = new Float32Array(Math.max(1, capacityRows) * dim);
  }

  get length(): number {
    return this.rows;
  }

  private reserve(extraRows: number): void {
    const need = (this.rows + extraRows) * this.dim;
    if (need <= this.data.length) return;
    const next = new Float32Array(Math.max(need, this.data.length * 2));
    next.set(this.data.subarray(0, this.rows * this.dim));
    this.data = next;
  }

  /** Appends one row (length dim). */
  push(row: ArrayLike<number>): void {
    this.reserve(1);
    this.data.set(row, this.rows * this.dim);
    this.rows++;
  }

  /** Appends rows [from, to) of a [*, dim] matrix. */
  pushRows(src: Float32Array, from: number, to: number): void {
    if (to <= from) return;
    this.reserve(to - from);
    this.data.set(src.subarray(from * this.dim, to * this.dim), this.rows * this.dim);
    this.rows += to - from;
  }

  toStream(rate: number, start: number): Stream {
    return makeStream(this.data.slice(0, this.rows * this.dim), this.dim, rate, start);
  }
}
