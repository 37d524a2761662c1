import { SetMetadata } from '@nestjs/common';
import type { ResolvedHostOptions } from '../config/host-options.js';
import type { Role } from './roles.js';

/** Metadata key of `@RequireRole`. */
export const REQUIRED_ROLE = 'brook:required-role';
/** Metadata key of `@Public` and `@PublicIf`. */
export const PUBLIC_ENDPOINT = 'brook:public';

/** Host options that can open an endpoint to requests without a token. */
export type PublicSwitch = { [K in keyof ResolvedHostOptions]: ResolvedHostOptions[K] extends boolean ? K : never }[keyof ResolvedHostOptions];

/** The least role a token needs for this endpoint. Endpoints without it need `admin`: deny by default. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** Serves this endpoint without a token (health checks, for probes that cannot send one). */
export const Public = () => SetMetadata(PUBLIC_ENDPOINT, true);

/** Serves this endpoint without a token when the host option `option` is true; otherwise `@RequireRole` applies. */
export const PublicIf = (option: PublicSwitch) => SetMetadata(PUBLIC_ENDPOINT, option);
