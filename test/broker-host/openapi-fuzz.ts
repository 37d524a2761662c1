import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { HOSTILE_NAMES, PROTOTYPE_NAMES } from './hostile-values.js';
import type { RequestOptions } from './host.js';

/** The parts of an OpenAPI 3.0 schema the host's document uses. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  oneOf?: Schema[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  schema: Schema;
}

/** One operation of the OpenAPI document, references resolved. */
export interface Operation {
  /** 'POST /api/v1/topics/{topic}/messages' */
  name: string;
  method: string;
  path: string;
  /** The least role ('none' for public operations), from the document's x-brook-role. */
  role: string;
  parameters: Parameter[];
  body?: { schema: Schema; name: string };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; 'x-brook-role'?: string }>>;
  components: { schemas: Record<string, Schema> };
}

/** Every operation of `document`, reads first and deletions last, so destructive calls come late. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref !== undefined) return resolve(document.components.schemas[schema.$ref.split('/').pop()!]);
    return {
      ...schema,
      ...(schema.items && { items: resolve(schema.items) }),
      ...(schema.properties && { properties: Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, resolve(value)])) }),
    };
  };
  const order = (operation: Operation) => ['get', 'post', 'delete'].indexOf(operation.method) * 2 + (operation.path.endsWith('/purge') ? 1 : 0);
  return Object.entries(document.paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]): Operation => {
        const body = operation.requestBody?.content['application/json']?.schema;
        return {
          name: `${method.toUpperCase()} ${path}`,
          method,
          path,
          role: operation['x-brook-role'] ?? 'admin',
          parameters: (operation.parameters ?? []).map((parameter) => ({ ...parameter, schema: resolve(parameter.schema) })),
          body: body && { schema: resolve(body), name: body.$ref?.split('/').pop() ?? 'body' },
        };
      }),
    )
    .sort((a, b) => order(a) - order(b));
}

/** Values that name something that exists, by parameter or property name. */
export type Known = Record<string, readonly unknown[]>;

/** A request to send, and what the host must do with it. */
export interface FuzzCase {
  /** What was done to a valid request: 'none', or the mutation that makes it invalid. */
  mutation: string;
  /** The host must refuse it (4xx): the mutation broke a documented rule. */
  mustRefuse: boolean;
  /** The status it must be refused with, when only one is right. */
  status?: number;
  method: string;
  path: string;
  options: RequestOptions & { rawBody?: string | Buffer };
}

/** Documented rules a schema cannot say: give exactly one of these properties. */
const EXACTLY_ONE_OF: Record<string, string[]> = {
  ProduceMessageDto: ['value', 'valueBase64'],
  ResetOffsetsDto: ['to', 'offset', 'timestamp'],
  DeadLetterSelectionDto: ['ids', 'all'],
  ReplayDto: ['ids', 'all'],
};

type Draw = fc.GeneratorValue;

const ROLES_BELOW: Record<string, Array<'viewer' | 'operator'>> = { admin: ['viewer', 'operator'], operator: ['viewer'], viewer: [], none: [] };

/**
 * A request for `operation`: valid by the document (names and ids from `known`), then with at most
 * one change that breaks a documented rule — a missing or wrong token, a hostile path segment, an
 * unknown, missing, mistyped, null or out-of-range field or parameter, a body that is not JSON,
 * too deep, compressed, or not UTF-8.
 */
export function drawCase(g: Draw, operation: Operation, known: Known): FuzzCase {
  const pathValues = Object.fromEntries(operation.parameters.filter((p) => p.in === 'path').map((p) => [p.name, String(validValue(g, p.schema, p.name, known))]));
  const query = new Map<string, string>();
  for (const parameter of operation.parameters.filter((p) => p.in === 'query')) {
    if (parameter.required || g(fc.boolean)) query.set(parameter.name, String(validValue(g, parameter.schema, parameter.name, known)));
  }
  let body: unknown = operation.body && validValue(g, operation.body.schema, operation.body.name, known, operation.body.name);
  const request: FuzzCase = { mutation: 'none', mustRefuse: false, method: operation.method.toUpperCase(), path: '', options: { token: operation.role === 'none' ? null : (operation.role as 'viewer') } };

  const mutations = applicableMutations(operation);
  const mutation = g(fc.constantFrom, ...mutations);
  const refuse = (what: string, status?: number) => Object.assign(request, { mutation: what, mustRefuse: true, status });
  switch (mutation) {
    case 'token-none':
      request.options.token = null;
      refuse('no token', 401);
      break;
    case 'token-wrong':
      request.options.token = { raw: g(fc.constantFrom, 'wrong-token-0123456789abcdef', 'admin', '', 'Bearer', `${'x'.repeat(2_000)}`) };
      refuse('a token that is not configured', 401);
      break;
    case 'token-below': {
      const role = g(fc.constantFrom, ...ROLES_BELOW[operation.role]);
      request.options.token = role;
      refuse(`a ${role} token`, 403);
      break;
    }
    case 'path-hostile': {
      const parameter = g(fc.constantFrom, ...Object.keys(pathValues));
      pathValues[parameter] = hostilePathValue(g, parameter);
      refuse(`path ${parameter}=${JSON.stringify(pathValues[parameter].slice(0, 40))}`);
      break;
    }
    case 'query-unknown': {
      const name = g(fc.constantFrom, ...PROTOTYPE_NAMES, 'limt', 'extra', 'topic ');
      query.set(name, '1');
      refuse(`unknown query parameter ${name}`);
      break;
    }
    case 'query-invalid': {
      const parameter = g(fc.constantFrom, ...operation.parameters.filter((p) => p.in === 'query' && isConstrained(p.schema)));
      const invalid = invalidQueryValue(g, parameter);
      query.set(parameter.name, invalid);
      refuse(`query ${parameter.name}=${JSON.stringify(invalid.slice(0, 40))}`);
      break;
    }
    case 'query-missing': {
      const parameter = g(fc.constantFrom, ...operation.parameters.filter((p) => p.in === 'query' && p.required));
      query.delete(parameter.name);
      refuse(`no ${parameter.name} in the query`);
      break;
    }
    case 'body-field': {
      const change = breakField(g, body, operation.body!.schema);
      body = change.body;
      refuse(change.what);
      break;
    }
    case 'body-text': {
      const text = breakText(g, JSON.stringify(body));
      request.options.rawBody = text.raw;
      refuse(text.what, text.status);
      break;
    }
    case 'body-headers': {
      const headers = g(fc.constantFrom, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'application/json; charset=latin1' });
      request.options.headers = headers;
      refuse(`Content-Type ${headers['content-type']}`, 415);
      break;
    }
    case 'body-gzip':
      request.options.rawBody = gzipSync(JSON.stringify(body));
      request.options.headers = { 'content-encoding': 'gzip' };
      refuse('a gzip-compressed body', 415);
      break;
    case 'body-missing':
      body = undefined;
      refuse('no body');
      break;
  }
  if (operation.body !== undefined && request.options.rawBody === undefined && body !== undefined) request.options.rawBody = JSON.stringify(body);
  if (request.options.rawBody !== undefined) request.options.headers = { 'content-type': 'application/json', ...request.options.headers };
  const search = [...query].map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
  request.path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathValues[name])) + (search === '' ? '' : `?${search}`);
  return request;
}

function applicableMutations(operation: Operation): string[] {
  const query = operation.parameters.filter((p) => p.in === 'query');
  return [
    'none',
    'none',
    'none',
    ...(operation.role !== 'none' ? ['token-none', 'token-wrong'] : []),
    ...(ROLES_BELOW[operation.role].length > 0 ? ['token-below'] : []),
    ...(operation.parameters.some((p) => p.in === 'path') ? ['path-hostile', 'path-hostile'] : []),
    // Endpoints that take no query parameters ignore them, as they ignore unknown headers.
    ...(query.length > 0 ? ['query-unknown'] : []),
    ...(query.some((p) => isConstrained(p.schema)) ? ['query-invalid', 'query-invalid'] : []),
    ...(query.some((p) => p.required) ? ['query-missing'] : []),
    ...(operation.body !== undefined ? ['body-field', 'body-field', 'body-field', 'body-field', 'body-text', 'body-text', 'body-headers', 'body-gzip', 'body-missing'] : []),
  ];
}

function isConstrained(schema: Schema): boolean {
  return schema.type === 'integer' || schema.enum !== undefined || schema.maxLength !== undefined || schema.pattern !== undefined;
}

/** A value the schema allows; names and ids come from `known`, so requests reach real data. */
function validValue(g: Draw, schema: Schema, name: string, known: Known, schemaName?: string): unknown {
  if (known[name] !== undefined) return g(fc.constantFrom, ...known[name]);
  if (schema.enum !== undefined) return g(fc.constantFrom, ...schema.enum);
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -1_000;
      const max = Math.min(schema.maximum ?? min + 1_000, min + 1_000);
      return g(fc.integer, { min, max });
    }
    case 'boolean':
      return g(fc.boolean);
    case 'string':
      if (schema.format === 'byte') return Buffer.from(g(fc.uint8Array, { maxLength: 12 })).toString('base64');
      return g(fc.string, { maxLength: Math.min(schema.maxLength ?? 16, 16) });
    case 'array': {
      const length = g(fc.integer, { min: schema.minItems ?? 0, max: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)) });
      return Array.from({ length }, () => validValue(g, schema.items!, `${name}[]`, known, schema.items!.$ref));
    }
    case 'object': {
      if (schema.properties === undefined) {
        const entries = g(fc.array, fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 8 })), fc.string({ maxLength: 8 })), { maxLength: 3 });
        return Object.fromEntries(entries);
      }
      const oneOf = EXACTLY_ONE_OF[schemaName ?? ''] ?? EXACTLY_ONE_OF[name.replace(/\[\]$/, '')];
      const chosen = oneOf === undefined ? undefined : g(fc.constantFrom, ...oneOf);
      const entries = Object.entries(schema.properties).filter(([key]) => {
        if (oneOf?.includes(key)) return key === chosen;
        return schema.required?.includes(key) || g(fc.boolean);
      });
      return Object.fromEntries(entries.map(([key, property]) => [key, validValue(g, property, key, known)]));
    }
    default:
      // Untyped: a message value, any JSON.
      return g(fc.jsonValue, { maxDepth: 3 });
  }
}

function hostilePathValue(g: Draw, parameter: string): string {
  if (parameter === 'partition') return g(fc.constantFrom, '-1', 'abc', '1.5', '0x1', '99999', '1e1', ' 1', '');
  if (parameter === 'id') return g(fc.constantFrom, 'abc', '0-1', '1-2-3-4', '0--1-0', '99999999-1-0', 'x'.repeat(100), '-1-1-0');
  // '.' and '..' are resolved away by URL rules and never reach the host as a segment.
  return g(fc.constantFrom, ...HOSTILE_NAMES.filter((name) => name !== '.' && name !== '..'));
}

function invalidQueryValue(g: Draw, parameter: Parameter): string {
  const { schema } = parameter;
  if (schema.type === 'integer') {
    const beyond = [schema.minimum === undefined ? '' : String(schema.minimum - 1), schema.maximum === undefined ? '' : String(schema.maximum + 1)].filter((v) => v !== '');
    return g(fc.constantFrom, 'abc', '1.5', '1e3', '0x10', '', ' 1', '99999999999999999999', ...beyond);
  }
  if (schema.enum !== undefined) return g(fc.constantFrom, 'boredom', '', String(schema.enum[0]).toUpperCase());
  if (schema.pattern !== undefined) return hostilePathValue(g, parameter.name);
  return 'x'.repeat((schema.maxLength ?? 0) + 1);
}

/** Where in a body a field can be changed, with its schema: ['messages', 0, 'key']. */
function fieldsOf(body: unknown, schema: Schema, at: Array<string | number> = []): Array<{ at: Array<string | number>; schema: Schema; parent: Schema }> {
  if (body === null || typeof body !== 'object' || schema.properties === undefined) return [];
  return Object.entries(schema.properties).flatMap(([key, property]) => {
    const value = (body as Record<string, unknown>)[key];
    const here = { at: [...at, key], schema: property, parent: schema };
    if (Array.isArray(value) && property.items?.properties !== undefined) {
      const items = value.map((_, index) => ({ at: [...at, key, index], schema: property.items!, parent: property }));
      return [here, ...items, ...value.flatMap((item, index) => fieldsOf(item, property.items!, [...at, key, index]))];
    }
    return [here, ...(property.properties ? fieldsOf(value, property, [...at, key]) : [])];
  });
}

/** One documented rule broken at one field, or an unknown field added to one object. */
function breakField(g: Draw, body: unknown, schema: Schema): { body: unknown; what: string } {
  const copy = structuredClone(body) as Record<string, unknown>;
  const fields = fieldsOf(copy, schema);
  const objects = [{ at: [] as Array<string | number>, schema }, ...fields.filter((f) => f.schema.properties !== undefined && getAt(copy, f.at) !== undefined)];
  const kind = g(fc.constantFrom, 'unknown', 'unknown', 'wrong-type', 'null', 'missing', 'out-of-range');
  if (kind === 'unknown') {
    const target = g(fc.constantFrom, ...objects);
    const name = g(fc.constantFrom, ...PROTOTYPE_NAMES, 'extra', 'topic_', 'Messages');
    const object = target.at.length === 0 ? copy : (getAt(copy, target.at) as Record<string, unknown>);
    if (object === null || typeof object !== 'object' || Array.isArray(object)) return { body: null, what: 'a body that is null' };
    Object.defineProperty(object, name, { value: 'x', enumerable: true, configurable: true, writable: true });
    return { body: copy, what: `unknown field ${name} at ${target.at.join('.') || 'the top level'}` };
  }
  // A message's value takes any JSON: nothing there can break a rule.
  const typed = fields.filter((f) => f.schema.type !== undefined);
  if (kind === 'missing') {
    const required = [...(schema.required ?? [])];
    if (required.length > 0) {
      const name = g(fc.constantFrom, ...required);
      delete copy[name];
      return { body: copy, what: `no ${name}` };
    }
  }
  const notNullable = typed.filter((f) => !f.schema.nullable);
  if (kind === 'null' && notNullable.length > 0) {
    const field = g(fc.constantFrom, ...notNullable);
    setAt(copy, field.at, null);
    return { body: copy, what: `${field.at.join('.')}: null` };
  }
  if (kind === 'out-of-range') {
    const bounded = typed.filter(({ schema: s }) =>
      [s.minimum, s.maximum, s.maxLength, s.minItems, s.maxItems, s.enum, s.pattern].some((bound) => bound !== undefined) || s.type === 'integer' || s.format === 'byte',
    );
    if (bounded.length > 0) {
      const field = g(fc.constantFrom, ...bounded);
      const value = outOfRange(g, field.schema);
      setAt(copy, field.at, value);
      return { body: copy, what: `${field.at.join('.')}: ${JSON.stringify(value).slice(0, 40)} (out of range)` };
    }
  }
  const field = g(fc.constantFrom, ...typed);
  const value = g(fc.constantFrom, ...wrongTypes(field.schema));
  setAt(copy, field.at, value);
  return { body: copy, what: `${field.at.join('.')}: ${JSON.stringify(value)} (a ${field.schema.type} belongs there)` };
}

function outOfRange(g: Draw, schema: Schema): unknown {
  const choices: unknown[] = [];
  if (schema.minimum !== undefined) choices.push(schema.minimum - 1);
  if (schema.maximum !== undefined) choices.push(schema.maximum + 1);
  if (schema.type === 'integer') choices.push(1.5, -0.5);
  if (schema.maxLength !== undefined) choices.push('x'.repeat(schema.maxLength + 1));
  if (schema.minItems !== undefined) choices.push([]);
  if (schema.maxItems !== undefined) choices.push(Array.from({ length: schema.maxItems + 1 }, () => (schema.items?.type === 'object' ? { value: 1 } : 'x')));
  if (schema.enum !== undefined) choices.push('not-one-of-them');
  if (schema.pattern !== undefined) choices.push(...HOSTILE_NAMES);
  if (schema.format === 'byte') choices.push('not base64!', 'AAA', '====');
  return g(fc.constantFrom, ...choices);
}

function wrongTypes(schema: Schema): unknown[] {
  switch (schema.type) {
    case 'integer':
    case 'number':
      return ['1', true, [1], { n: 1 }];
    case 'string':
      return [1, true, ['x'], { s: 'x' }];
    case 'boolean':
      return ['true', 1, [true], {}];
    case 'array':
      return ['x', 1, { 0: 'x' }, true];
    default:
      // Objects, headers included: an array of the right content is still an array.
      return [[{}], [['a', 'b']], 'x', 1, true, schema.additionalProperties ? { h: 1 } : []];
  }
}

/** Body text broken in one way: not JSON, too deep, a duplicate key, an unstorable number, not UTF-8. */
function breakText(g: Draw, valid: string): { raw: string | Buffer; what: string; status?: number } {
  const kind = g(fc.constantFrom, 'malformed', 'not-object', 'deep', 'duplicate', 'number', 'utf8');
  switch (kind) {
    case 'malformed': {
      const raw = g(fc.constantFrom, '{', '{"a":', 'nul', '{"a":1,}', "{'a':1}", '\u0000', valid.slice(0, -1), `${valid}x`, ' ');
      return { raw, what: `malformed JSON ${JSON.stringify(raw.slice(0, 30))}`, status: 400 };
    }
    case 'not-object': {
      const raw = g(fc.constantFrom, '[]', '"x"', '1', 'null', 'true', `[${valid}]`);
      return { raw, what: `a body that is ${raw.slice(0, 30)}`, status: 400 };
    }
    case 'deep': {
      const depth = g(fc.constantFrom, 101, 3_000, 100_000);
      return { raw: `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`, what: `${depth} levels of nesting`, status: 400 };
    }
    case 'duplicate':
      // Every valid body has a key: the fields of each body schema include a required one or one of a choice.
      return { raw: `${valid.slice(0, -1)},${valid.slice(1)}`, what: 'every key twice', status: 400 };
    case 'number':
      return { raw: `{"a":${g(fc.constantFrom, '1e400', '-1e400', '12345678901234567890', '1e-400')}}`, what: 'a number a double cannot hold', status: 400 };
    default:
      return { raw: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), what: 'a body that is not UTF-8', status: 400 };
  }
}

function getAt(value: unknown, at: Array<string | number>): unknown {
  return at.reduce<unknown>((current, key) => (current === null || typeof current !== 'object' ? undefined : (current as Record<string, unknown>)[key]), value);
}

function setAt(value: Record<string, unknown>, at: Array<string | number>, next: unknown): void {
  const parent = getAt(value, at.slice(0, -1)) as Record<string | number, unknown>;
  parent[at[at.length - 1]] = next;
}
