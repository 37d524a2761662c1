/** The parts of OpenAPI 3.0 schemas the host's contract uses. */
interface Schema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  oneOf?: Schema[];
  allOf?: Schema[];
}

/**
 * Where `value` breaks `schema` (resolving `#/components/schemas/…` in `document`), as
 * `path: problem` lines; empty when it conforms. Enough of JSON Schema to hold the host to the
 * response contract it publishes.
 */
export function schemaViolations(document: { components: { schemas: Record<string, Schema> } }, schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref !== undefined) return schemaViolations(document, document.components.schemas[schema.$ref.split('/').pop()!], value, path);
  if (value === null) return schema.nullable === true || schema.type === undefined ? [] : [`${path}: null where ${schema.type} belongs`];
  if (schema.allOf !== undefined) return schema.allOf.flatMap((part) => schemaViolations(document, part, value, path));
  if (schema.oneOf !== undefined) {
    const matching = schema.oneOf.filter((option) => schemaViolations(document, option, value, path).length === 0).length;
    return matching === 1 ? [] : [`${path}: matches ${matching} of the oneOf options`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) return [`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case undefined:
      return [];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: ${JSON.stringify(value)} is not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: ${JSON.stringify(value)} is not a number`];
    case 'string':
    case 'boolean':
      return typeof value === schema.type ? [] : [`${path}: ${JSON.stringify(value)} is not a ${schema.type}`];
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, i) => schemaViolations(document, schema.items ?? {}, item, `${path}[${i}]`)) : [`${path}: not an array`];
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
      const record = value as Record<string, unknown>;
      const missing = (schema.required ?? []).filter((name) => !(name in record)).map((name) => `${path}.${name}: missing`);
      const checked = Object.entries(record).flatMap(([name, item]) => {
        const property = schema.properties?.[name] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        return property === undefined ? [] : schemaViolations(document, property, item, `${path}.${name}`);
      });
      return [...missing, ...checked];
    }
  }
}
