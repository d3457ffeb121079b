import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

export type IdPrefix = 'apr' | 'dec' | 'evt' | 'msg' | 'key' | 'slk';

/** A sortable id (ULID) with a type prefix, e.g. `apr_01J...`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export type NewId = typeof newId;
