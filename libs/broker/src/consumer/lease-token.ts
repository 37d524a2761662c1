/**
 * A fencing token: the member id and a counter of the member's acquisitions. The counter lives in
 * the member's process, so a token is never handed out twice, not even when Redis forgets the
 * lease it was stored in (a restart from an older snapshot): a worker of an earlier acquisition
 * can never pass the fence of a later one, also within one member.
 */
export function leaseToken(memberId: string, acquisition: number): string {
  return `${memberId}:${acquisition}`;
}

/** The member id of a fencing token. */
export function memberOfToken(token: string): string {
  const colon = token.lastIndexOf(':');
  return colon === -1 ? token : token.slice(0, colon);
}
