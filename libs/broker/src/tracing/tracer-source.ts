import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { brookVersion, type OtelApi } from './otel-api.js';

/** The name of Brook's tracer (the instrumentation scope of its spans). */
export const TRACER_NAME = '@brook/broker';

/** Where `@opentelemetry/api` 1.x registers the global providers, shared by every copy of it. */
const API_REGISTRY = Symbol.for('opentelemetry.js.api.1');

/**
 * Finds the tracer of the SDK the application registered, at every call: an SDK may be registered
 * after Brook started. Without one the answer is `undefined` and nothing is allocated, so code
 * that checks first costs a property read or two per message.
 */
export class TracerSource {
  private readonly noop: TracerProvider;
  private provider: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  constructor(readonly api: OtelApi) {
    // A proxy without a delegate answers with the API's one no-op provider.
    this.noop = new api.ProxyTracerProvider().getDelegate();
  }

  /** The registered SDK's tracer, or `undefined` while no SDK is registered. */
  current(): Tracer | undefined {
    // The registry every copy of the API 1.x shares: without a registered provider there is no SDK,
    // whatever this copy's own fallback still holds (a provider registered and then disabled
    // through another copy stays its delegate).
    if ((globalThis as Record<symbol, { trace?: unknown } | undefined>)[API_REGISTRY]?.trace === undefined) return undefined;
    const registered = this.api.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
    const provider = typeof registered.getDelegate === 'function' ? registered.getDelegate() : registered;
    if (provider !== this.provider) {
      this.provider = provider;
      // Another copy of the API has a no-op provider of its own: recognised by its class.
      const noop = provider === this.noop || provider.constructor?.name === 'NoopTracerProvider';
      this.tracer = noop ? undefined : provider.getTracer(TRACER_NAME, brookVersion());
    }
    return this.tracer;
  }
}
