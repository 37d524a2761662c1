#!lua
--[[
  schedule-retry — park failed messages in the group's delay queue (non-blocking retries) until
  their due time. A message from the log leaves the pending list in the same step, so the partition
  moves on without losing it; a message from the delay queue goes back into it. Parking the same
  attempt twice changes nothing.

  KEYS[1]  log        stream  the partition log
  KEYS[2]  lease      string  must hold token
  KEYS[3]  attempts   hash    stream ID → JSON failure record
  KEYS[4]  stats      hash    counters of the group on the partition
  KEYS[5]  delay      zset    stream ID → due time (ms, Redis clock)
  KEYS[6]  payloads   hash    stream ID → msgpack of the message's fields
  KEYS[7]  taken      hash    stream ID → token of the worker that took it from the delay queue
  ARGV[1]  group      string
  ARGV[2]  token      string
  ARGV[3]  count      integer number of messages that follow
  ARGV[4…] messages   for each: id (stream ID `0-<offset + 1>`), messageId, source ('log': pending
                      in the log; 'delay': taken from the queue), attempt (the attempt that failed),
                      delayMs (from now, on the Redis clock), error (JSON { name, message }), the
                      number of field/value strings that follow, then those strings (stored when a
                      message enters the queue; none are sent for source 'delay')

  Returns  { 'ok', parked, stale } — stale: IDs not parked because they were no longer pending,
           no longer taken by this token, or their offset holds another message (a repeat of an
           earlier call, or a message Redis lost); { 'fenced' } (nothing is written then).
  Notes    No allow-oom: under maxmemory parking would copy payloads; the messages stay where they
           are and the caller retries.
]]
--#include lib/clock.lua
--#include lib/entries.lua
--#include lib/message.lua

local log, lease, attempts, stats, delay, payloads, taken = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local group, token, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('GET', lease) ~= token then
  return { 'fenced' }
end

local now = nowMs()
local parked, stale = 0, {}
local at = 4
for _ = 1, count do
  local id, messageId, source, attempt = ARGV[at], ARGV[at + 1], ARGV[at + 2], tonumber(ARGV[at + 3])
  local delayMs, error, nFields = tonumber(ARGV[at + 4]), ARGV[at + 5], tonumber(ARGV[at + 6])
  local here
  if source == 'log' then
    here = isPending(log, group, id) and sameMessage(log, id, messageId) ~= 'other'
  else
    here = redis.call('HGET', taken, id) == token
  end
  local record = failureRecord(attempts, id, messageId, now)
  if here then
    record.attempts = math.max(record.attempts, attempt)
    record.lastFailureAt = now
    record.error = cjson.decode(error)
    redis.call('HSET', attempts, id, cjson.encode(record))
    redis.call('ZADD', delay, now + delayMs, id)
    if source == 'log' then
      redis.call('HSET', payloads, id, cmsgpack.pack({ unpack(ARGV, at + 7, at + 6 + nFields) }))
      redis.call('XACK', log, group, id)
    else
      redis.call('HDEL', taken, id)
    end
    parked = parked + 1
  else
    stale[#stale + 1] = id
  end
  at = at + 7 + nFields
end
if parked > 0 then
  redis.call('HINCRBY', stats, 'failed', parked)
  redis.call('HINCRBY', stats, 'retried', parked)
end
return { 'ok', parked, stale }
