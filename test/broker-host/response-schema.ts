import type { Schema } from './openapi-fuzz.js';

interface Document {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Where `value` departs from the documented 200 response of `method path`: missing required
 * properties, properties the schema does not name, wrong types, values outside an enum. Empty when
 * it conforms.
 */
export function responseProblems(document: Document, method: string, path: string, value: unknown): string[] {
  const schema = document.paths[path]?.[method.toLowerCase()]?.responses?.['200']?.content?.['application/json']?.schema;
  if (schema === undefined) return [`${method} ${path} documents no JSON 200 response`];
  const problems: string[] = [];
  const check = (node: Schema, at: string, v: unknown): void => {
    if (node.$ref !== undefined) return check(document.components.schemas[node.$ref.split('/').pop()!], at, v);
    if (v === null) {
      if (!node.nullable) problems.push(`${at} is null, which the schema does not allow`);
      return;
    }
    if (node.enum !== undefined && !node.enum.includes(v)) problems.push(`${at} is ${JSON.stringify(v)}, not one of ${JSON.stringify(node.enum)}`);
    const type = node.type ?? (node.properties ? 'object' : undefined);
    if (type === 'array') {
      if (!Array.isArray(v)) return void problems.push(`${at} is not an array`);
      if (node.minItems !== undefined && v.length < node.minItems) problems.push(`${at} has fewer than ${node.minItems} items`);
      if (node.maxItems !== undefined && v.length > node.maxItems) problems.push(`${at} has more than ${node.maxItems} items`);
      v.forEach((item, i) => node.items && check(node.items, `${at}[${i}]`, item));
    } else if (type === 'object') {
      if (typeof v !== 'object' || Array.isArray(v)) return void problems.push(`${at} is not an object`);
      const record = v as Record<string, unknown>;
      for (const name of node.required ?? []) if (!(name in record)) problems.push(`${at}.${name} is missing`);
      for (const [name, item] of Object.entries(record)) {
        const property = node.properties?.[name];
        if (property === undefined) problems.push(`${at}.${name} is not in the schema`);
        else check(property, `${at}.${name}`, item);
      }
    } else if (type === 'integer') {
      if (!Number.isInteger(v)) problems.push(`${at} is not an integer`);
    } else if (type === 'number') {
      if (typeof v !== 'number') problems.push(`${at} is not a number`);
    } else if (type === 'string' || type === 'boolean') {
      if (typeof v !== type) problems.push(`${at} is not a ${type}`);
    }
  };
  check(schema, '$', value);
  return problems;
}
