import { Inject } from '@nestjs/common';
import { Brook } from '@brook/broker';
import { BROOK_PRODUCER } from './brook.tokens.js';

/** Injects the module's producer: `constructor(@InjectProducer() private readonly producer: Producer)`. */
export const InjectProducer = (): ParameterDecorator => Inject(BROOK_PRODUCER);

/** Injects the module's `Brook` client (admin, extra producers or consumers). */
export const InjectBrook = (): ParameterDecorator => Inject(Brook);
