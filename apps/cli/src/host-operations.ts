import type { DeadLetter, Message, PeekedMessage, ReplayJobStatus } from '@brook/broker';
import { CommandError, EXIT, exitCodeFor } from './exit-codes.js';
import type { Operations } from './operations.js';

/** A message as the host's API shows it: bytes as base64. */
type MessageView = Omit<PeekedMessage, 'value'> & { value: unknown; valueFormat: 'text' | 'json' | 'base64' };

/** The command line's operations through a broker host's REST API, authenticated by a bearer token. */
export class HostOperations implements Operations {
  readonly target: string;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {
    this.target = baseUrl;
  }

  async listTopics() {
    return (await this.call<{ topics: Array<{ topic: string; partitions: number }> }>('GET', '/api/v1/topics')).topics;
  }
  describeTopic(topic: string) {
    return this.call<Awaited<ReturnType<Operations['describeTopic']>>>('GET', `/api/v1/topics/${enc(topic)}`);
  }
  async createTopic(request: Parameters<Operations['createTopic']>[0]) {
    return (await this.call<{ created: boolean }>('POST', '/api/v1/topics', request)).created;
  }
  async addPartitions(topic: string, partitions: number) {
    await this.call('POST', `/api/v1/topics/${enc(topic)}/partitions`, { partitions });
  }
  async deleteTopic(topic: string) {
    await this.call('DELETE', `/api/v1/topics/${enc(topic)}`);
  }
  async listGroups() {
    return (await this.call<{ groups: Awaited<ReturnType<Operations['listGroups']>> }>('GET', '/api/v1/groups')).groups;
  }
  async describeGroup(group: string, topic?: string) {
    type Described = Awaited<ReturnType<Operations['describeGroup']>>;
    if (topic !== undefined) return [await this.call<Described[number]>('GET', `/api/v1/groups/${enc(group)}/topics/${enc(topic)}`)];
    return (await this.call<{ topics: Described }>('GET', `/api/v1/groups/${enc(group)}`)).topics;
  }
  deleteGroup({ group, force }: Parameters<Operations['deleteGroup']>[0]) {
    return this.call<Awaited<ReturnType<Operations['deleteGroup']>>>('DELETE', `/api/v1/groups/${enc(group)}${force ? '?force=true' : ''}`);
  }
  async resetOffsets({ group, topic, to, force }: Parameters<Operations['resetOffsets']>[0]) {
    const target = typeof to === 'string' ? { to } : to;
    const body = await this.call<{ partitions: Array<{ partition: number; offset: number }> }>(
      'POST',
      `/api/v1/groups/${enc(group)}/topics/${enc(topic)}/reset-offsets`,
      { ...target, force },
    );
    return body.partitions;
  }
  async produce(topic: string, messages: Message[]) {
    const body = messages.map((message) => ({
      key: message.key === undefined || message.key === null ? null : String(message.key),
      ...(Buffer.isBuffer(message.value) ? { valueBase64: message.value.toString('base64') } : { value: message.value }),
      headers: message.headers,
      partition: message.partition,
    }));
    return (await this.call<{ records: Awaited<ReturnType<Operations['produce']>> }>('POST', `/api/v1/topics/${enc(topic)}/messages`, { messages: body })).records;
  }
  async readMessages({ topic, partition, offset, timestamp, limit }: Parameters<Operations['readMessages']>[0]) {
    const page = await this.call<{ messages: MessageView[]; nextOffset: number }>(
      'GET',
      `/api/v1/topics/${enc(topic)}/partitions/${partition}/messages?${query({ offset, timestamp, limit })}`,
    );
    return { messages: page.messages.map(fromView), nextOffset: page.nextOffset };
  }
  async listDeadLetters(request: Parameters<Operations['listDeadLetters']>[0]) {
    const page = await this.call<{ items: Array<DeadLetter & { message: MessageView }>; nextCursor: string | null }>(
      'GET',
      `/api/v1/dead-letters?${query({ ...request })}`,
    );
    return { items: page.items.map((letter) => ({ ...letter, message: fromView(letter.message) })), nextCursor: page.nextCursor };
  }
  async getDeadLetter({ topic, group, id }: Parameters<Operations['getDeadLetter']>[0]) {
    try {
      const letter = await this.call<DeadLetter & { message: MessageView }>('GET', `/api/v1/dead-letters/${enc(id)}?${query({ topic, group })}`);
      return { ...letter, message: fromView(letter.message) };
    } catch (error) {
      if (error instanceof CommandError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }
  countDeadLetters(request: Parameters<Operations['countDeadLetters']>[0]) {
    return this.call<Awaited<ReturnType<Operations['countDeadLetters']>>>('GET', `/api/v1/dead-letters/count?${query(request)}`);
  }
  replayDeadLetters(request: Parameters<Operations['replayDeadLetters']>[0]) {
    return this.call<Awaited<ReturnType<Operations['replayDeadLetters']>>>('POST', '/api/v1/dead-letters/replay', request);
  }
  purgeDeadLetters(request: Parameters<Operations['purgeDeadLetters']>[0]) {
    return this.call<Awaited<ReturnType<Operations['purgeDeadLetters']>>>('POST', '/api/v1/dead-letters/purge', request);
  }
  async replayJobs() {
    return (await this.call<{ items: Awaited<ReturnType<Operations['replayJobs']>> }>('GET', '/api/v1/dead-letters/replays')).items;
  }
  replayJob(id: string) {
    return this.orNull(this.call<ReplayJobStatus>('GET', `/api/v1/dead-letters/replays/${enc(id)}`));
  }
  cancelReplayJob(id: string) {
    return this.orNull(this.call<ReplayJobStatus>('POST', `/api/v1/dead-letters/replays/${enc(id)}/cancel`));
  }
  skip(request: Parameters<Operations['skip']>[0]) {
    return this.call<Awaited<ReturnType<Operations['skip']>>>('POST', '/api/v1/dead-letters/skip', request);
  }
  private async orNull<T>(answer: Promise<T>): Promise<T | null> {
    try {
      return await answer;
    } catch (error) {
      if (error instanceof CommandError && error.exitCode === EXIT.NOT_FOUND) return null;
      throw error;
    }
  }
  audit(request: Parameters<Operations['audit']>[0]) {
    return this.call<Awaited<ReturnType<Operations['audit']>>>('GET', `/api/v1/dead-letters/audit?${query(request)}`);
  }
  async close() {}

  private async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new CommandError('CONNECTION', `Cannot reach the broker host at ${this.baseUrl} (${reason}): check --host / BROOK_HOST and that the host runs.`, EXIT.UNAVAILABLE);
    }
    const text = await response.text();
    const parsed = text === '' ? undefined : safeJson(text);
    if (response.ok) return parsed as T;
    const error = (parsed ?? {}) as { code?: string; message?: string };
    const code = error.code ?? `HTTP_${response.status}`;
    let message = error.message ?? `${response.status} ${response.statusText}`;
    if (response.status === 401) message += ' Set BROOK_TOKEN to a token the host accepts.';
    if (response.status === 403) message += " Use a token whose role allows this (the host's BROOK_ADMIN_TOKENS names each token's role).";
    if (response.status === 429) message += ` Retry after ${response.headers.get('retry-after') ?? 'a while'} s.`;
    throw new CommandError(code, message, exitCodeFor(code, exitCodeForStatus(response.status)));
  }
}

function exitCodeForStatus(status: number): number {
  if (status === 400 || status === 413 || status === 422) return EXIT.USAGE;
  if (status === 401 || status === 403) return EXIT.DENIED;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409) return EXIT.CONFLICT;
  if (status === 429 || status === 503 || status === 504) return EXIT.UNAVAILABLE;
  return EXIT.FAILED;
}

function fromView<T extends MessageView>(view: T): Omit<T, 'valueFormat'> & { value: unknown } {
  const { valueFormat, ...message } = view;
  return { ...message, value: valueFormat === 'base64' && typeof view.value === 'string' ? Buffer.from(view.value, 'base64') : view.value };
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function query(values: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null) params.set(name, String(value));
  return params.toString();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) };
  }
}
