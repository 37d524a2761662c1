/** The broker host's API, called with the signed-in token; the token lives in this tab's session storage only. */

export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  name: string;
  role: Role;
}

const TOKEN_KEY = 'brook.console.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An error answer of the API: status, Brook code and the message that names the fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls `path` (under the host's origin) with the stored token; throws ApiError on an error answer. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? storedToken();
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  const body = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, body?.code ?? String(response.status), body?.message ?? response.statusText);
  return body as T;
}

/** Query string from the defined values. */
export function query(values: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export const enc = encodeURIComponent;

/** The API, relative to the console at <host>/console/ (so it also works behind a path prefix). */
export const API = "../api/v1";

export function allows(session: Session, needed: Role): boolean {
  const order: Role[] = ['viewer', 'operator', 'admin'];
  return order.indexOf(session.role) >= order.indexOf(needed);
}

// Shapes of the answers the console reads.

export interface TopicListing {
  topic: string;
  partitions: number;
}

export interface PartitionInfo {
  partition: number;
  lowOffset: number;
  highOffset: number;
  leader: string;
  replicas: string[];
  inSyncReplicas?: string[];
  replicaStatus?: Array<{ address: string; state: string; lagBytes: number | null; inSync: boolean }>;
}

export interface TopicInfo {
  topic: string;
  retention: { maxAgeMs: number | null; maxMessages: number | null };
  createdAt: number;
  partitions: PartitionInfo[];
}

export interface MessageView {
  offset: number;
  key: string | null;
  value: unknown;
  valueFormat: 'text' | 'json' | 'base64';
  headers: Record<string, string>;
  timestamp: number;
}

export interface GroupListing {
  group: string;
  kind: string;
  topics: string[];
  members: number;
  lag?: number | null;
  lagSeconds?: number | null;
}

export interface GroupPartition {
  partition: number;
  owner: string | null;
  committedOffset: number | null;
  highOffset: number;
  lowOffset: number;
  lag: number | null;
  lagSeconds?: number | null;
  pending: number;
  retrying: number;
  deadLettered: number;
}

export interface GroupTopic {
  group: string;
  kind: string;
  topic: string;
  members: Array<{ memberId: string; clientId: string; partitions: number[] }>;
  partitions: GroupPartition[];
}

export interface DeadLetterView {
  id: string;
  topic: string;
  group: string;
  partition: number;
  offset: number;
  handler: string;
  attempts: number;
  reason: string;
  error: { name: string; message: string; stack: string | null };
  firstFailureAt: number;
  lastFailureAt: number;
  deadLetteredAt: number;
  replays?: number;
  parked?: boolean;
  message: Omit<MessageView, 'offset'> & { encoding?: string };
}

export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  topic: string;
  group: string;
  to: string | null;
  selection: string[] | 'all' | unknown;
  result: { count: number; missing: string[] } | unknown;
}
