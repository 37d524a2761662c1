// Names README.md's TypeScript blocks use without defining them: what the surrounding text says
// they are. Checked by scripts/check-readme.mjs.
type BrookModule = typeof import('@brook/broker');
type NestAdapter = typeof import('@brook/nest-adapter');
type NestCommon = typeof import('@nestjs/common');

declare const brook: import('@brook/broker').Brook;
declare const admin: import('@brook/broker').Admin;
declare const consumer: import('@brook/broker').Consumer;
declare const eachMessage: import('@brook/broker').EachMessageHandler;
declare const topic: string;
declare const group: string;
declare const partition: number;
declare const reason: import('@brook/broker').DeadLetterReason;
declare const cursor: string | undefined;
declare const limit: number;
declare const id: string;
declare const ids: string[];
declare const cause: unknown;
declare class ValidationError extends Error {}
declare const order: { orderId: string };
declare const messages: import('@brook/broker').Message[];
declare const log: { warn(...args: unknown[]): void; info(...args: unknown[]): void };
declare const db: {
  upsert(key: string | null, value: unknown): Promise<void>;
  insertMany(values: unknown[]): Promise<void>;
};
declare function chunks<T>(items: T[], size: number): T[][];
declare function sendMail(value: unknown, options: { signal: AbortSignal }): Promise<void>;
declare function charge(value: unknown): Promise<void>;
declare class OrderDto {
  orderId: string;
}
declare class OrderCreatedDto {
  orderId: string;
  card: string;
}
declare class ShipmentDto {
  orderId: string;
}
declare class Billing {}
declare class AppModule {}
declare function randomUUID(): string;
declare const Test: typeof import('@nestjs/testing').Test;
declare const Brook: BrookModule['Brook'];
declare const BrokerModule: NestAdapter['BrokerModule'];
declare const Subscribe: NestAdapter['Subscribe'];
declare const SubscribeBatch: NestAdapter['SubscribeBatch'];
declare const Payload: NestAdapter['Payload'];
declare const Ctx: NestAdapter['Ctx'];
type ShareMessageContext = import('@brook/nest-adapter').ShareMessageContext;
type BatchContext = import('@brook/nest-adapter').BatchContext;
type MessageContext = import('@brook/nest-adapter').MessageContext;
declare const ValidationPipe: NestCommon['ValidationPipe'];
declare const Get: NestCommon['Get'];
declare function HealthCheck(): MethodDecorator;
