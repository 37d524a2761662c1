import { HttpException } from '@nestjs/common';
import { MessageValidationError, NonRetriableError } from '@brook/broker';

/**
 * Gives errors from Nest's pipeline their meaning for messages: a failed pipe (400, 422) is a
 * validation failure — dead-lettered at once with reason `validation`; a guard's refusal (403)
 * cannot change on retry. Anything else is up to the retry policy.
 */
export function toMessageFailure(error: unknown): unknown {
  if (!(error instanceof HttpException)) return error;
  const status = error.getStatus();
  const response = error.getResponse();
  const detail = typeof response === 'object' && response !== null && 'message' in response ? (response as { message: unknown }).message : response;
  const message = Array.isArray(detail) ? detail.join('; ') : String(detail);
  if (status === 400 || status === 422) return new MessageValidationError(message, { cause: error });
  if (status === 403) return new NonRetriableError(message, { cause: error });
  return error;
}
