import { Body, Controller, Get, Post } from '@nestjs/common';
import { IsInt, IsPositive, IsString, Max, MaxLength } from 'class-validator';
import { OrderStore } from '../store/order-store.js';

class RestockDto {
  @IsString() @MaxLength(64) sku!: string;
  @IsInt() @IsPositive() @Max(1_000_000) quantity!: number;
}

@Controller('inventory')
export class InventoryController {
  constructor(private readonly store: OrderStore) {}

  @Get()
  stock() {
    return this.store.stock();
  }

  @Post('restock')
  async restock(@Body() dto: RestockDto) {
    return { sku: dto.sku, quantity: await this.store.restock(dto.sku, dto.quantity) };
  }
}
