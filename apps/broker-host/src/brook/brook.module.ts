import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Brook } from '@brook/broker';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { BROOK } from './brook.tokens.js';
import { nestLogger } from './nest-logger.js';

/** Provides the host's one Brook client, and closes it when the application shuts down. */
@Global()
@Module({
  providers: [
    {
      provide: BROOK,
      inject: [HOST_OPTIONS],
      useFactory: (options: ResolvedHostOptions) =>
        new Brook({ redis: options.redis, prefix: options.prefix, clientId: options.hostId, logger: nestLogger('Brook') }),
    },
  ],
  exports: [BROOK],
})
export class BrookModule implements OnApplicationShutdown {
  constructor(@Inject(BROOK) private readonly brook: Brook) {}

  async onApplicationShutdown(): Promise<void> {
    await this.brook.close();
  }
}
