/**
 * Typed errors. Every error a user can cause names the thing at fault (file, field, op, shape) and
 * what was expected, so a message alone is enough to fix the input.
 */
export type ErrorCode =
  | 'INPUT' // a file, argument or field is wrong
  | 'SHAPE' // a tensor or array shape/dtype does not fit
  | 'MEDIA' // ffmpeg could not read, or a stream is missing
  | 'CONFIG' // a config file or option failed validation
  | 'NUMERIC' // NaN/Inf where finite numbers were required
  | 'STATE'; // something was used in the wrong order (e.g. a session after close)

export class AttuneError extends Error {
  readonly code: ErrorCode;
  /** Structured context for --json output: { file, field, expected, got, ... } */
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.details };
  }
}

/** Bad user input: a path that cannot be read, a malformed file, a field out of range. */
export class InputError extends AttuneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INPUT', message, details);
  }
}

/** A shape or dtype mismatch, found as early as possible (while tracing, or when loading arrays). */
export class ShapeError extends AttuneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SHAPE', message, details);
  }
}

/** Decoding failed, a stream is missing, or ffmpeg/ffprobe could not be run. */
export class MediaError extends AttuneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MEDIA', message, details);
  }
}

/** A config file or option did not validate. */
export class ConfigError extends AttuneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG', message, details);
  }
}

/** NaN or Inf appeared where finite values are required. */
export class NumericError extends AttuneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('NUMERIC', message, details);
  }
}

/** Formats any thrown value as one line for logs and per-item error lists. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
