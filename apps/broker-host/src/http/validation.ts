import { applyDecorators, BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { assertValidName, BrokerError } from '@brook/broker';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * The pipe every request body and query goes through: unknown properties are refused rather than
 * ignored, so a typo ('limt') is a 400 and not a silently default page size.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new BadRequestException(flatten(errors)),
  });
}

/** Checks of what a value is, reported before checks of its range. */
const TYPE_CHECKS = ['whitelistValidation', 'isDefined', 'isInt', 'isString', 'isBoolean', 'isArray', 'isObject', 'isBase64', 'isIn', 'isBrookName'];

/** One message per property — 'limit must be an integer number', not also every bound 'abc' misses. */
function flatten(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const at = path === '' ? error.property : `${path}.${error.property}`;
    const constraints = Object.entries(error.constraints ?? {});
    const [, message] = constraints.find(([name]) => TYPE_CHECKS.includes(name)) ?? constraints[0] ?? [];
    const own = message === undefined ? [] : [path === '' ? message : `${at}: ${message}`];
    return [...own, ...flatten(error.children ?? [], at)];
  });
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

const INTEGER = /^-?\d{1,16}$/;

/**
 * Query strings arrive as text: turn plain decimal integers into numbers and leave anything else
 * ('abc', '1e3', '0x10', repeated parameters) as it is, for `@IsInt()` to refuse by name.
 */
export const ToInteger = () => Transform(({ value }) => (typeof value === 'string' && INTEGER.test(value) ? Number(value) : value));

/** Query booleans: only 'true' and 'false'. */
export const ToBoolean = () => Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value));

/** Largest page or selection, as the library bounds them. */
export const MAX_PAGE = 1_000;

/** An optional page size: an integer from 1 to {@link MAX_PAGE}, from a query string or a body. */
export function PageSize(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, minimum: 1, maximum: MAX_PAGE, default: 100 }),
    IsOptional(),
    ToInteger(),
    IsInt(),
    Min(1),
    Max(MAX_PAGE),
  );
}
