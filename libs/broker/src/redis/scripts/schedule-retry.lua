--[[
  schedule-retry — park failed messages in the group's delay queue (non-blocking retries) and take
  those that came from the log off the partition's pending list in the same step, so the partition
  moves on without losing them.

  KEYS[1]  log        stream  the partition log
  KEYS[2]  lease      string  must hold memberId
  KEYS[3]  attempts   hash    stream ID → JSON failure record
  KEYS[4]  stats      hash    counters of the group on the partition
  KEYS[5]  delay      zset    stream ID → due time (ms)
  KEYS[6]  payloads   hash    stream ID → msgpack of the message's fields
  ARGV[1]  group      string
  ARGV[2]  memberId   string
  ARGV[3]  count      integer number of messages that follow
  ARGV[4…] messages   for each: id (stream ID `0-<offset + 1>`), source ('log': pending in the log,
                      'delay': it came from the queue), nowMs (time of the failure), dueMs (when to
                      try again), error (JSON { name, message, stack }, bounded by the caller), the
                      number of field/value strings that follow, then those strings (stored when the
                      message enters the queue; none are sent for source 'delay')

  Returns  the number of messages parked, or -1 when fenced (nothing is written then).
]]
local log, lease, attempts, stats, delay, payloads = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local group, memberId, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('GET', lease) ~= memberId then
  return -1
end

local at = 4
for _ = 1, count do
  local id, source, now, due, error = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), ARGV[at + 4]
  local nFields = tonumber(ARGV[at + 5])
  local record = { attempts = 0, firstFailureAt = now }
  local stored = redis.call('HGET', attempts, id)
  if stored then record = cjson.decode(stored) end
  record.attempts = record.attempts + 1
  record.lastFailureAt = now
  record.error = cjson.decode(error)
  redis.call('HSET', attempts, id, cjson.encode(record))
  redis.call('ZADD', delay, due, id)
  if source == 'log' then
    redis.call('HSET', payloads, id, cmsgpack.pack({ unpack(ARGV, at + 6, at + 5 + nFields) }))
    redis.call('XACK', log, group, id)
  end
  at = at + 6 + nFields
end
redis.call('HINCRBY', stats, 'failed', count)
redis.call('HINCRBY', stats, 'retried', count)
return count
