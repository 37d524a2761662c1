import { Injectable, type PipeTransform } from '@nestjs/common';
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
