/**
 * Output file names for item ids, readable and collision-free:
 * - an id that is already a safe name (letters and digits of any script, '.', '_', '-'; NFC; no leading dot;
 *   at most 100 UTF-8 bytes; not a Windows device name) is used as it is: `clip001` -> `clip001`, `über` -> `über`;
 * - any other id becomes a readable slug plus 8 hex digits of sha256(id): `a/b` -> `a_b-<hash>`, `a b?` -> `a_b_-<hash>`,
 *   so `a/b` and `a_b` never share a file;
 * - names that still collide within the batch (also case-insensitively, as on macOS and Windows file systems) all
 *   get the hash suffix, so the result does not depend on the order of the ids.
 */
import { createHash } from 'node:crypto';

const MAX_SLUG_BYTES = 100;
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

export function slugify(id: string): string {
  let s = id
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .replace(/^\.+/, '_');
  while (Buffer.byteLength(s, 'utf8') > MAX_SLUG_BYTES) s = [...s].slice(0, -1).join('');
  return s || 'item';
}

export function idHash(id: string, chars = 8): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, chars);
}

/** True when `slugify(id) === id` and the id is not a reserved device name. */
export function isSafeName(id: string): boolean {
  return slugify(id) === id && !WINDOWS_DEVICES.test(id);
}

/** A name for each id (unique ids in; unique names out, compared case-insensitively). */
export function outputNames(ids: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const id of ids) names.set(id, isSafeName(id) ? id : `${slugify(id)}-${idHash(id)}`);
  // Give every member of a colliding group the (longer, if need be) hash suffix until no two names collide.
  for (let round = 0; round < 4; round++) {
    const groups = new Map<string, string[]>();
    for (const [id, name] of names) {
      const k = name.toLowerCase();
      groups.set(k, [...(groups.get(k) ?? []), id]);
    }
    const clashes = [...groups.values()].filter((g) => g.length > 1);
    if (clashes.length === 0) return names;
    for (const group of clashes)
      for (const id of group) names.set(id, `${slugify(id)}-${idHash(id, 8 + 8 * (round + 1))}`);
  }
  // Distinct ids have distinct full hashes.
  for (const id of ids) names.set(id, `${slugify(id).slice(0, 40)}-${idHash(id, 64)}`);
  return names;
}
