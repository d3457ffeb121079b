/**
 * Characters that change how a line reads without being seen, as the body of a regular
 * expression's character class (JavaScript's and JSON Schema's `pattern` alike): the
 * bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can
 * show `invoice‮fdp.exe` as `invoiceexe.pdf`, and the line and paragraph separators (U+2028,
 * U+2029), which break a line that must stay one. The marks U+200E and U+200F reorder no run
 * of text and right-to-left writing needs them, so they are allowed.
 */
export const REORDERING_CHARACTERS = '\\u202A-\\u202E\\u2066-\\u2069\\u2028\\u2029';
