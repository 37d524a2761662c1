import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { getMetadataStorage, validate, type ValidationError } from 'class-validator';
import { propertyShape, TYPE_CHECKS } from './validation.js';

/**
 * The pipe every request body and query goes through. It builds the DTO from the request's own
 * properties only, refusing any it does not declare — including ones named like `Object.prototype`
 * members ('constructor', 'toString', '__proto__'), which a generic transformer skips — and leaves
 * undeclared-shape fields (a message's value and headers) exactly as parsed: user data is never
 * walked, converted or dropped. Then it validates with class-validator.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform<unknown, Promise<unknown>> {
  async transform(value: unknown, { metatype, type }: ArgumentMetadata): Promise<unknown> {
    if (type === 'custom' || metatype === undefined || declaredProperties(metatype).size === 0) return value;
    if (!isPlainObject(value)) {
      throw new BadRequestException(
        type === 'body'
          ? `The request body must be a JSON object sent with 'Content-Type: application/json'; got ${value === undefined ? 'none' : describe(value)}.`
          : `The ${type} must be an object; got ${describe(value)}.`,
      );
    }
    const problems: string[] = [];
    const instance = build(metatype, value, '', problems);
    const errors = await validate(instance, { forbidUnknownValues: true, validationError: { target: false, value: false } });
    problems.push(...flatten(errors));
    if (problems.length > 0) throw new BadRequestException(problems);
    return instance;
  }
}

const declared = new Map<Function, Set<string>>();

/** The properties a DTO declares, inherited ones included: every one carries a class-validator decorator. */
function declaredProperties(dto: Function): Set<string> {
  let properties = declared.get(dto);
  if (properties === undefined) {
    properties = new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).map((metadata) => metadata.propertyName));
    declared.set(dto, properties);
  }
  return properties;
}

/** An instance of `dto` with the declared own properties of `plain`; undeclared ones go to `problems`. */
function build(dto: Function, plain: Record<string, unknown>, path: string, problems: string[]): object {
  const properties = declaredProperties(dto);
  const instance = Object.create(dto.prototype as object) as Record<string, unknown>;
  for (const key of Object.keys(plain)) {
    if (!properties.has(key)) {
      const name = key.length > 60 ? `${key.slice(0, 60)}…` : key;
      problems.push(path === '' ? `property ${name} should not exist` : `${path}: property ${name} should not exist`);
      continue;
    }
    const at = path === '' ? key : `${path}.${key}`;
    const { nested, coerce } = propertyShape(dto, key);
    let value = coerce === undefined ? plain[key] : coerce(plain[key]);
    if (nested !== undefined && !nested.each && isPlainObject(value)) value = build(nested.type(), value, at, problems);
    if (nested !== undefined && nested.each && Array.isArray(value)) {
      value = value.map((item, index) => (isPlainObject(item) ? build(nested.type(), item, `${at}.${index}`, problems) : item));
    }
    instance[key] = value;
  }
  return instance;
}

/**
 * One message per property, prefixed with where it is ('messages.0.valueBase64: …'): its first
 * failed check of what the value is, else its first failed bound. A value of the wrong kind is not
 * looked into.
 */
function flatten(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const at = path === '' ? error.property : `${path}.${error.property}`;
    const constraints = error.constraints ?? {};
    const typeCheck = TYPE_CHECKS.find((name) => name in constraints);
    const message = typeCheck === undefined ? Object.values(constraints)[0] : constraints[typeCheck];
    const own = message === undefined ? [] : [path === '' ? message : `${at}: ${message}`];
    return typeCheck === undefined ? [...own, ...flatten(error.children ?? [], at)] : own;
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
