import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/require-role.decorator.js';
import { MaintenanceService, type ControllerStatus } from './maintenance.service.js';

/** `/api/v1/controller`: the maintenance controller's status on this host. */
@ApiTags('controller')
@ApiBearerAuth()
@Controller('api/v1/controller')
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Whether this host is the active maintenance controller, who is, and its last retention pass.' })
  status(): ControllerStatus {
    return this.maintenance.status();
  }
}
