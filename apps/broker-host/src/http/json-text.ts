/**
 * Deepest nesting of objects and arrays a request body may have, the envelope included: a message
 * value in `{ "messages": [{ "value": … }] }` starts at level 4.
 */
export const MAX_JSON_DEPTH = 100;

interface Frame {
  /** The object's keys so far; undefined for an array. */
  keys: Set<string> | undefined;
  /** Whether the next string in this object is a key. */
  expectKey: boolean;
  /** The current key or array index, for naming where a problem is. */
  at: string;
  index: number;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

/**
 * What `JSON.parse` would accept in `text` but not keep as sent, or could not handle: nesting deeper
 * than `maxDepth`, a key twice in one object (only the last would count), a number a double cannot
 * hold (`12345678901234567890`, `1e400`, `0.30000000000000001` would come back as other numbers).
 * Returns a message naming the problem, where it is and the fix; undefined when there is none.
 * Malformed JSON also gives undefined: `JSON.parse` describes it best.
 */
export function findJsonTextProblem(text: string, maxDepth: number = MAX_JSON_DEPTH): string | undefined {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        return `The request body nests objects and arrays deeper than ${maxDepth} levels (at ${where(stack)}); flatten it, or send the value as valueBase64.`;
      }
      stack.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b, at: '0', index: 0 });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      if (top?.keys !== undefined) top.expectKey = true;
      else if (top !== undefined) top.at = String(++top.index);
      i++;
    } else if (c === 0x3a /* : */) {
      if (top !== undefined) top.expectKey = false;
      i++;
    } else if (c === 0x22 /* " */) {
      const end = closingQuote(text, i + 1);
      if (end < 0) return undefined;
      if (top?.keys !== undefined && top.expectKey) {
        const key = decodeKey(text.slice(i, end + 1));
        if (key === undefined) return undefined;
        if (top.keys.has(key)) {
          return `The request body has the key ${JSON.stringify(shorten(key))} twice in one object (at ${where(stack.slice(0, -1))}); JSON keeps only the last, so send each key once.`;
        }
        top.keys.add(key);
        top.at = key;
      }
      i = end + 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match === null) return undefined;
      if (!keepsValue(match[0])) {
        const stored = Number(match[0]);
        const becomes = Number.isFinite(stored) ? String(stored) : 'null';
        return `The number ${shorten(match[0])} (at ${where(stack)}) cannot be stored as sent: it would become ${becomes}. Send it as a string to keep every digit.`;
      }
      i = NUMBER.lastIndex;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
    } else {
      LITERAL.lastIndex = i;
      if (LITERAL.exec(text) === null) return undefined;
      i = LITERAL.lastIndex;
    }
  }
  return undefined;
}

/** The index of the quote that closes a string whose content starts at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  let at = from;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

function decodeKey(literal: string): string | undefined {
  if (!literal.includes('\\')) return literal.slice(1, -1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/**
 * Whether a JSON number literal comes back from a double with the same decimal value: `1.0`, `1e2`
 * and `0.1` do; `12345678901234567890`, `1e400` and `1e-400` do not. `-0` counts as `0`, as
 * `JSON.stringify` writes it.
 */
function keepsValue(literal: string): boolean {
  // Up to 15 digits, every integer and decimal survives a double; JSON.stringify writes the rest.
  if (literal.length <= 15 && !/[eE]/.test(literal)) return true;
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  if (String(value) === literal) return true;
  // Settled without reading the exponent, which may be arbitrarily long.
  if (value === 0) return !/[1-9]/.test(literal.split(/[eE]/)[0]);
  return canonicalDecimal(literal) === canonicalDecimal(String(value));
}

/**
 * A non-zero decimal number as sign, significant digits and exponent: '-1.50e1' and '-15' both give
 * '-15e0'. The exponent of a finite non-zero double has at most a few digits once its leading
 * zeros are gone, so a plain number holds it.
 */
function canonicalDecimal(text: string): string {
  const [, sign, whole, fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const significant = (whole + fraction).replace(/^0+/, '');
  const digits = significant.replace(/0+$/, '');
  const power = Number(exponent.replace(/^([+-]?)0+(?=\d)/, '$1')) - fraction.length + (significant.length - digits.length);
  return `${sign}${digits}e${power}`;
}

/** Where the scanner is, as a validation message would name it: 'messages.0.value.items'. */
function where(stack: Frame[]): string {
  if (stack.length === 0) return 'the top level';
  const parts = stack.map((frame) => shorten(frame.at, 40));
  return parts.length > 8 ? `${parts.slice(0, 6).join('.')}.….${parts[parts.length - 1]}` : parts.join('.');
}

function shorten(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
