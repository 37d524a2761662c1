import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/admin-tokens.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RequireRole } from '../auth/require-role.decorator.js';

/** `/api/v1/session`: who the bearer token is; the console asks once at sign-in to know what to show. */
@ApiTags('session')
@ApiBearerAuth()
@Controller('api/v1/session')
export class SessionController {
  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: "The token's name and role (viewer, operator or admin)." })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['name', 'role'],
      properties: { name: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'operator', 'admin'] } },
    },
  })
  session(@CurrentPrincipal() principal: Principal): Principal {
    return { name: principal.name, role: principal.role };
  }
}
