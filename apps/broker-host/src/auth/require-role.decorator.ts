import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { ResolvedHostOptions } from '../config/host-options.js';
import type { Role } from './roles.js';

/** Metadata key of `@RequireRole`. */
export const REQUIRED_ROLE = 'brook:required-role';
/** Metadata key of `@Public` and `@PublicIf`. */
export const PUBLIC_ENDPOINT = 'brook:public';

/** Host options that can open an endpoint to requests without a token. */
export type PublicSwitch = { [K in keyof ResolvedHostOptions]: ResolvedHostOptions[K] extends boolean ? K : never }[keyof ResolvedHostOptions];

/** Where the OpenAPI document names the least role of an operation ('none' for public ones). */
export const ROLE_EXTENSION = 'x-brook-role';

/** The least role a token needs for this endpoint. Endpoints without it need `admin`: deny by default. */
export const RequireRole = (role: Role) => applyDecorators(SetMetadata(REQUIRED_ROLE, role), ApiExtension(ROLE_EXTENSION, role));

/** Serves this endpoint without a token (health checks, for probes that cannot send one). */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_ENDPOINT, true), ApiExtension(ROLE_EXTENSION, 'none'));

/** Serves this endpoint without a token when the host option `option` is true; otherwise `@RequireRole` applies. */
export const PublicIf = (option: PublicSwitch) => SetMetadata(PUBLIC_ENDPOINT, option);
