import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsInt, IsPositive, IsString, Matches, Max, MaxLength, ValidateNested } from 'class-validator';

export class OrderItemDto {
  @IsString() @MaxLength(64) sku!: string;
  @IsInt() @IsPositive() @Max(1_000) quantity!: number;
}

/** What `POST /orders` takes. */
export class CreateOrderDto {
  @IsString() @MaxLength(64) customerId!: string;
  @IsPositive() @Max(1_000_000) amount!: number;
  @Matches(/^\d{12,19}$/, { message: 'card must be 12 to 19 digits' }) card!: string;
  @ValidateNested({ each: true }) @Type(() => OrderItemDto) @ArrayMinSize(1) @ArrayMaxSize(50) items!: OrderItemDto[];
}
