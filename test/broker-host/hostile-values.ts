/**
 * Keys named like members of `Object.prototype` (and `prototype`): generic object transformers skip
 * or misread them, so they are where user data gets lost.
 */
export const PROTOTYPE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'].sort();

/** Names no topic or group may have, as they appear in a URL path segment. */
export const HOSTILE_NAMES = ['../x', '..', '.', '__x', '__meta', 'x'.repeat(300), 'ключ', '{}', '{orders:0}', 'a b', 'a/b', 'a\u0000b', "a'b", 'a*', '%'];

/** `{ "messages": [{ "value": <depth nested arrays> }] }` as text: the value starts at level 4. */
export function produceBodyNested(depth: number): string {
  return `{"messages":[{"value":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
}
