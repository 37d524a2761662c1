#!lua flags=allow-oom
--[[
  take-due — hand the owner the messages of the group's delay queue that are due, within a byte
  budget. Taken messages leave the queue and are marked with the owner's token: they stay its own
  however long they wait in its memory, and the next owner gets them back when it acquires the
  lease (acquire-lease), not after a timeout.

  KEYS[1]  lease       string  must hold token
  KEYS[2]  attempts    hash    stream ID → JSON failure record
  KEYS[3]  delay       zset    stream ID → due time (ms, Redis clock)
  KEYS[4]  payloads    hash    stream ID → msgpack of the message's fields
  KEYS[5]  taken       hash    stream ID → token of the worker that took it
  ARGV[1]  token       string
  ARGV[2]  count       integer at most this many messages
  ARGV[3]  maxBytes    integer byte budget (at least one message)

  Returns  { 'ok', packed, failureRecords, msUntilNextDue } — packed as in lib/entries.lua;
           msUntilNextDue: until the earliest message left in the queue is due (0 when one is due
           already, -1 when the queue is empty); { 'fenced' }.
]]
--#include lib/clock.lua
--#include lib/entries.lua

local lease, attempts, delay, payloads, taken = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local token, count, maxBytes = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('GET', lease) ~= token then
  return { 'fenced' }
end
local now = nowMs()
local entries, records, bytes = {}, {}, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delay, '-inf', now, 'LIMIT', 0, count)) do
  if bytes >= maxBytes and #entries > 0 then break end
  redis.call('ZREM', delay, id)
  local packed = redis.call('HGET', payloads, id)
  if packed then
    local entry = { id, cmsgpack.unpack(packed) }
    entries[#entries + 1] = entry
    records[#records + 1] = redis.call('HGET', attempts, id)
    bytes = bytes + entryBytes(entry)
    redis.call('HSET', taken, id, token)
  end
end
local next = -1
local first = redis.call('ZRANGE', delay, 0, 0, 'WITHSCORES')
if #first > 0 then next = math.max(0, tonumber(first[2]) - now) end
return { 'ok', packEntries(entries), records, next }
