import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ResolvedHostOptions } from './host-options.js';
import { HOST_OPTIONS } from './host-options.tokens.js';

/** Makes the resolved host options injectable everywhere as {@link HOST_OPTIONS}. */
@Global()
@Module({})
export class HostOptionsModule {
  static forRoot(options: ResolvedHostOptions): DynamicModule {
    return { module: HostOptionsModule, providers: [{ provide: HOST_OPTIONS, useValue: options }], exports: [HOST_OPTIONS] };
  }
}
