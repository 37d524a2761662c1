import 'reflect-metadata';
import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { assertValidName, BrokerError } from '@brook/broker';
import { IsArray, IsInt, IsObject, Max, Min, ValidateBy, ValidateIf, ValidateNested, type ValidationOptions } from 'class-validator';

/** Reflect-metadata key of {@link Nested}: the DTO class of a property. */
const NESTED_TYPE = 'brook:nested-type';
/** Reflect-metadata key of {@link ToInteger}: how a query string becomes a value. */
const COERCION = 'brook:coercion';

/** How {@link StrictValidationPipe} builds a property from the request. */
export interface PropertyShape {
  /** The DTO class of a nested object, or of each element of a nested array. */
  nested?: { type: () => Function; each: boolean };
  coerce?: (value: unknown) => unknown;
}

/** What the decorators below recorded for `property` of a DTO. */
export function propertyShape(dto: Function, property: string): PropertyShape {
  return {
    nested: Reflect.getMetadata(NESTED_TYPE, dto.prototype, property) as PropertyShape['nested'],
    coerce: Reflect.getMetadata(COERCION, dto.prototype, property) as PropertyShape['coerce'],
  };
}

/** A field that may be left out; null is refused, naming the field (only {@link Nullable} fields take null). */
export const Optional = () => applyDecorators(ValidateIf((_, value) => value !== undefined), IsNotNull());

/** A field that may be left out or null: every other check applies to other values only. */
export const Nullable = () => ValidateIf((_, value) => value !== undefined && value !== null);

/**
 * An object of DTO `type` (or, with `each`, an array of them): checked to be one, then validated
 * as that DTO, unknown fields refused at every level.
 */
export function Nested(type: () => Function, { each = false } = {}): PropertyDecorator {
  return applyDecorators(
    ...(each ? [IsArray(), IsObject({ each: true })] : [IsObject()]),
    ValidateNested({ each }),
    (target: object, property: string | symbol) => Reflect.defineMetadata(NESTED_TYPE, { type, each }, target, property),
  );
}

const INTEGER = /^-?\d{1,16}$/;

/**
 * Query strings arrive as text: turn plain decimal integers into numbers and leave anything else
 * ('abc', '1e3', '0x10', repeated parameters) as it is, for `@IsInt()` to refuse by name.
 */
export const ToInteger = (): PropertyDecorator => (target, property) =>
  Reflect.defineMetadata(COERCION, (value: unknown) => (typeof value === 'string' && INTEGER.test(value) ? Number(value) : value), target, property);

/** Query strings arrive as text: turn 'true' and 'false' into booleans, anything else stays for `@IsBoolean()` to refuse. */
export const ToBoolean = (): PropertyDecorator => (target, property) =>
  Reflect.defineMetadata(COERCION, (value: unknown) => (value === 'true' ? true : value === 'false' ? false : value), target, property);

/** Checks of what a value is, in the order they are reported: only the first failed one is, not every bound 'abc' misses. */
export const TYPE_CHECKS = [
  'isNotNull',
  'isDefined',
  'isInt',
  'isString',
  'isBoolean',
  'isArray',
  'isObject',
  'isStringRecord',
  'isBase64',
  'isIn',
  'isBrookName',
  'isWellFormedText',
];

function IsNotNull(): PropertyDecorator {
  return ValidateBy({
    name: 'isNotNull',
    validator: {
      validate: (value) => value !== null,
      defaultMessage: (args) => `${args?.property} must not be null; leave it out instead`,
    },
  });
}

/** An object whose every value is a string (message headers). */
export function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  const badEntry = (value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).find(([, v]) => typeof v !== 'string') : undefined;
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (value) => value !== null && typeof value === 'object' && !Array.isArray(value) && badEntry(value) === undefined,
        defaultMessage: (args) => {
          const bad = badEntry(args?.value);
          const got = bad === undefined ? '' : `; '${bad[0].slice(0, 60)}' is ${bad[1] === null ? 'null' : Array.isArray(bad[1]) ? 'an array' : `a ${typeof bad[1]}`}`;
          return `${args?.property} must be an object of string values${got}`;
        },
      },
    },
    options,
  );
}

/** Lone UTF-16 surrogates: JavaScript strings may hold them, UTF-8 cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text stored as UTF-8 must be well-formed Unicode: a lone surrogate would be stored as U+FFFD, so
 * the text read back would differ. Values other than strings pass.
 */
export function IsWellFormedText(fix: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isWellFormedText',
      validator: {
        validate: (value) => typeof value !== 'string' || !LONE_SURROGATE.test(value),
        defaultMessage: (args) => `${args?.property} has a lone UTF-16 surrogate, which UTF-8 text cannot hold; ${fix}`,
      },
    },
    options,
  );
}

/** A topic or group name by Brook's rules; the message is the library's, which names the rule. */
export function IsBrookName(kind: 'topic' | 'group', options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBrookName',
      validator: {
        validate: (value) => nameProblem(kind, value) === undefined,
        defaultMessage: (args) => nameProblem(kind, args?.value) ?? `invalid ${kind} name`,
      },
    },
    options,
  );
}

function nameProblem(kind: 'topic' | 'group', value: unknown): string | undefined {
  try {
    assertValidName(kind, value);
    return undefined;
  } catch (error) {
    if (error instanceof BrokerError) return error.message;
    throw error;
  }
}

/** Largest page or selection, as the library bounds them. */
export const MAX_PAGE = 1_000;

/** An optional page size: an integer from 1 to {@link MAX_PAGE}, from a query string or a body. */
export function PageSize(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 }),
    Optional(),
    ToInteger(),
    IsInt(),
    Min(1),
    Max(MAX_PAGE),
  );
}
