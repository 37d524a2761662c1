--[[
  schedule-retry — park a failed message in the group's delay queue (non-blocking retry) and take it
  off the partition's pending list in the same step, so the partition moves on without losing it.

  KEYS[1]  log        stream  the partition log
  KEYS[2]  lease      string  must hold memberId
  KEYS[3]  attempts   hash    stream ID → JSON failure record
  KEYS[4]  stats      hash    counters of the group on the partition
  KEYS[5]  delay      zset    stream ID → due time (ms)
  KEYS[6]  payloads   hash    stream ID → msgpack of the message's fields
  ARGV[1]  group      string
  ARGV[2]  memberId   string
  ARGV[3]  id         string  stream ID `0-<offset + 1>`
  ARGV[4]  source     'log' (the message is pending in the log) | 'delay' (it came from the queue)
  ARGV[5]  nowMs      integer time of the failure
  ARGV[6]  dueMs      integer when to try again
  ARGV[7]  error      string  JSON { name, message, stack } (bounded by the caller)
  ARGV[8…] fields     the message's field/value strings (stored when it enters the queue)

  Returns  the number of failed attempts so far, or -1 when fenced.
]]
local log, lease, attempts, stats, delay, payloads = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local group, memberId, id, source = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, due = tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('GET', lease) ~= memberId then
  return -1
end

local record = { attempts = 0, firstFailureAt = now }
local stored = redis.call('HGET', attempts, id)
if stored then record = cjson.decode(stored) end
record.attempts = record.attempts + 1
record.lastFailureAt = now
record.error = cjson.decode(ARGV[7])
redis.call('HSET', attempts, id, cjson.encode(record))

redis.call('ZADD', delay, due, id)
if source == 'log' then
  redis.call('HSET', payloads, id, cmsgpack.pack({ unpack(ARGV, 8) }))
  redis.call('XACK', log, group, id)
end
redis.call('HINCRBY', stats, 'failed', 1)
redis.call('HINCRBY', stats, 'retried', 1)
return record.attempts
