import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { assertValidName } from '@brook/broker';

/** Validates a topic name in the path before any handler sees it. */
@Injectable()
export class TopicNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    assertValidName('topic', value);
    return value;
  }
}

/** Validates a group name in the path before any handler sees it. */
@Injectable()
export class GroupNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    assertValidName('group', value);
    return value;
  }
}

/** A non-negative integer in the path, e.g. a partition number. */
@Injectable()
export class PartitionPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^\d{1,5}$/.test(value)) throw new BadRequestException(`partition must be a non-negative integer; got ${JSON.stringify(value.slice(0, 40))}.`);
    return Number(value);
  }
}
