/**
 * Bounded reads for binary formats. A reader opens the file once, learns its size, and reads only ranges it has
 * checked against that size: a header that claims more bytes than the file holds is an InputError naming the file
 * and what was expected, never a read past the end, a huge allocation or a RangeError.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../util/errors.js';

export class BoundedFile {
  private constructor(
    readonly path: string,
    readonly what: string,
    private fd: number,
    readonly size: number,
  ) {}

  /** Opens a regular file for reading (a FIFO, device or folder is refused without blocking on it). */
  static open(path: string, what: string): BoundedFile {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (err) {
      throw new InputError(`cannot read ${path}: ${describeOpenError(path, err as NodeJS.ErrnoException)}`, {
        file: path,
        expected: what,
      });
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        const kind = st.isDirectory()
          ? 'a folder'
          : st.isFIFO()
            ? 'a named pipe'
            : st.isSocket()
              ? 'a socket'
              : 'a device or other special file';
        throw new InputError(`cannot read ${path}: it is ${kind}, not a ${what} file`, { file: path, expected: what });
      }
      return new BoundedFile(path, what, fd, st.size);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** An InputError "<path>: not a valid <what> file: <why>". */
  invalid(why: string, details: Record<string, unknown> = {}): InputError {
    return invalidFile(this.path, this.what, why, details);
  }

  /** Exactly `length` bytes at `position`; an InputError (naming `part`) when the file ends first. */
  read(position: number, length: number, part: string): Buffer {
    checkRange(this, position, length, part);
    const buf = Buffer.allocUnsafe(length);
    this.readInto(buf, position, part);
    return buf;
  }

  /** Fills `target` from `position` (already checked against the size by the caller or by read()). */
  readInto(target: Uint8Array, position: number, part: string): void {
    if (position + target.byteLength > this.size) {
      throw this.invalid(
        `${part} needs ${target.byteLength} bytes at offset ${position} but the file has only ${this.size} bytes`,
        {
          expected: position + target.byteLength,
          got: this.size,
        },
      );
    }
    let done = 0;
    while (done < target.byteLength) {
      let n: number;
      try {
        n = readSync(this.fd, target, done, target.byteLength - done, position + done);
      } catch (err) {
        throw new InputError(
          `cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          { file: this.path },
        );
      }
      if (n === 0)
        throw this.invalid(`the file shrank while being read (${part}: got ${done} of ${target.byteLength} bytes)`);
      done += n;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export function invalidFile(
  path: string,
  what: string,
  why: string,
  details: Record<string, unknown> = {},
): InputError {
  return new InputError(`${path}: not a valid ${what} file: ${why}`, { file: path, ...details });
}

function describeOpenError(path: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') {
    try {
      if (lstatSync(path).isSymbolicLink()) {
        try {
          statSync(path);
        } catch {
          return 'it is a symbolic link to a file that does not exist';
        }
      }
    } catch {
      // not there at all
    }
    return 'no such file';
  }
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'ELOOP') return 'too many levels of symbolic links';
  if (err.code === 'EISDIR') return 'it is a folder';
  return err.code ?? err.message;
}

/** A header excerpt safe to put in a message: printable ASCII only, at most `max` characters. */
export function excerpt(text: string, max = 120): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?').trim();
  return clean.length > max ? `${clean.slice(0, max)}... (${clean.length} characters)` : clean;
}

/** Product of dims as a safe integer, or null when a dim is not a non-negative safe integer or the product overflows. */
export function safeNumel(shape: readonly unknown[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** What a format decoder reads from: a file (BoundedFile) or bytes already in memory (BufferSource). */
export interface ByteSource {
  readonly path: string;
  readonly size: number;
  read(position: number, length: number, part: string): Uint8Array;
  readInto(target: Uint8Array, position: number, part: string): void;
  invalid(why: string, details?: Record<string, unknown>): InputError;
}

/** Bytes in memory behind the same checked interface (never a view past their end). */
export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(
    private readonly bytes: Uint8Array,
    readonly path: string,
    readonly what: string,
  ) {
    this.size = bytes.byteLength;
  }

  invalid(why: string, details: Record<string, unknown> = {}): InputError {
    return invalidFile(this.path, this.what, why, details);
  }

  read(position: number, length: number, part: string): Uint8Array {
    checkRange(this, position, length, part);
    return this.bytes.subarray(position, position + length);
  }

  readInto(target: Uint8Array, position: number, part: string): void {
    target.set(this.read(position, target.byteLength, part));
  }
}

/** The bytes [position, position + length) lie inside the source, or an InputError naming `part` and the size. */
function checkRange(
  src: { size: number; invalid: (why: string, details?: Record<string, unknown>) => InputError },
  position: number,
  length: number,
  part: string,
): void {
  const inside =
    Number.isSafeInteger(position) &&
    Number.isSafeInteger(length) &&
    position >= 0 &&
    length >= 0 &&
    position + length <= src.size;
  if (!inside) {
    throw src.invalid(
      `${part} needs bytes [${position}, ${position + length}) but the file has only ${src.size} bytes`,
      {
        expected: position + length,
        got: src.size,
      },
    );
  }
}
