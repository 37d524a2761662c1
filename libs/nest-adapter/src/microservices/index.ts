export { BrookServer } from './brook-server.js';
export type { BrookPatternOptions, BrookServerOptions } from './brook-server.options.js';
export { BrookClient } from './brook-client.js';
export type { BrookClientOptions } from './brook-client.options.js';
export { BrookContext, type BrookContextArgs } from './brook.context.js';
export { BROOK_TRANSPORT, BrookHeaders } from './brook-transport.constants.js';
export type { BrookRecord } from './transport-message.js';
export { ReplyTimeoutError, RpcHandlerError } from './transport.errors.js';
