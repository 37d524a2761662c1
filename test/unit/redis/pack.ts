/**
 * Packs log entries the way `packEntries` in `libs/broker/src/redis/scripts/lib/entries.lua` does:
 * per entry, the ID, the number of field/value strings, then those strings; every string a 4-byte
 * big-endian length and its bytes, the count a 4-byte big-endian integer.
 */
export function pack(entries: ReadonlyArray<[id: string, fields: ReadonlyArray<string | Buffer>]>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const str = (s: string | Buffer) => {
    const bytes = Buffer.isBuffer(s) ? s : Buffer.from(s);
    return Buffer.concat([u32(bytes.length), bytes]);
  };
  for (const [id, fields] of entries) {
    parts.push(str(id), u32(fields.length), ...fields.map(str));
  }
  return Buffer.concat(parts);
}
