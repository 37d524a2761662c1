import { Body, Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { OrderStore } from '../store/order-store.js';
import { sequenceProblem, type OrderStatus, type OrderView } from '../store/order.js';
import { CreateOrderDto } from './create-order.dto.js';
import { OrdersService } from './orders.service.js';

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly store: OrderStore,
  ) {}

  @Post()
  @HttpCode(202)
  async create(@Body() dto: CreateOrderDto) {
    const order = await this.orders.create(dto);
    return { orderId: order.orderId, status: 'processing' };
  }

  /**
   * Counts per status, end-to-end latency (order accepted → customer notified), and the delivered
   * orders whose steps are out of sequence (with one example).
   */
  @Get('summary')
  async summary() {
    const all = await this.store.all();
    const byStatus: Record<OrderStatus, number> = { processing: 0, declined: 0, 'out-of-stock': 0, shipped: 0, delivered: 0 };
    for (const order of all) byStatus[order.status]++;
    const latencies = all.filter((o) => o.notifiedAt !== null).map((o) => o.notifiedAt! - o.createdAt).sort((a, b) => a - b);
    const pct = (p: number) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
    const outOfSequence = all.flatMap((order) => {
      const problem = sequenceProblem(order);
      return problem === undefined ? [] : [{ orderId: order.orderId, problem }];
    });
    return { total: all.length, byStatus, latencyMs: { p50: pct(50), p99: pct(99) }, outOfSequence: { count: outOfSequence.length, example: outOfSequence[0] ?? null } };
  }

  @Get(':id')
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<OrderView> {
    const order = await this.store.get(id);
    if (order === null) throw new NotFoundException(`Order ${id} does not exist`);
    return order;
  }
}
