import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { BrokerModule } from '@brook/nest-adapter';
import { SAMPLE_CONFIG, TOPICS, type SampleConfig } from './config.js';
import { InventoryController } from './inventory/inventory.controller.js';
import { InventoryHandler } from './inventory/inventory.handler.js';
import { NotificationsHandler } from './notifications/notifications.handler.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { PaymentsHandler } from './payments/payments.handler.js';
import { ShippingHandler } from './shipping/shipping.handler.js';
import { OrderStore } from './store/order-store.js';
import { ShipmentsHandler } from './store/shipments.handler.js';

/** Seeds the stock once, before orders arrive. */
@Injectable()
class StockSeeder implements OnApplicationBootstrap {
  constructor(
    private readonly store: OrderStore,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  async onApplicationBootstrap() {
    await this.store.seedStock({ 'sku-widget': 1_000_000, 'sku-gadget': 1_000_000, 'sku-limited': this.config.limitedStock });
  }
}

/** The order pipeline: the way we tell users to write their services. */
@Module({})
export class AppModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BrokerModule.forRoot({
          redis: config.redisUrl,
          prefix: config.prefix,
          clientId: 'sample-orders',
          topics: [
            { topic: TOPICS.ordersCreated, partitions: 6 },
            { topic: TOPICS.paymentsCompleted, partitions: 6 },
            { topic: TOPICS.inventoryReserved, partitions: 6 },
            { topic: TOPICS.ordersShipped, partitions: 6 },
          ],
          consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
          retry: { attempts: 3, backoff: { type: 'exponential', initialMs: 100, maxMs: 2_000 } },
        }),
      ],
      controllers: [OrdersController, InventoryController],
      providers: [
        { provide: SAMPLE_CONFIG, useValue: config },
        OrderStore,
        StockSeeder,
        OrdersService,
        PaymentsHandler,
        InventoryHandler,
        ShippingHandler,
        NotificationsHandler,
        ShipmentsHandler,
      ],
    };
  }
}
