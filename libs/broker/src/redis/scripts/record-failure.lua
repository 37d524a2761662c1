--[[
  record-failure — count a failed attempt of a message that stays pending (blocking retry), so the
  count survives a crash or a takeover.

  KEYS[1]  lease     string  must hold memberId
  KEYS[2]  attempts  hash    stream ID → JSON failure record
  KEYS[3]  stats     hash    counters of the group on this partition
  ARGV[1]  memberId  string
  ARGV[2]  id        string  stream ID of the message
  ARGV[3]  nowMs     integer time of the failure
  ARGV[4]  error     string  JSON { name, message, stack } of the failure (bounded by the caller)

  Returns  the number of failed attempts so far, or -1 when fenced.
]]
local lease, attempts, stats = KEYS[1], KEYS[2], KEYS[3]
local memberId, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('GET', lease) ~= memberId then
  return -1
end
local record = { attempts = 0, firstFailureAt = now }
local stored = redis.call('HGET', attempts, id)
if stored then record = cjson.decode(stored) end
record.attempts = record.attempts + 1
record.lastFailureAt = now
record.error = cjson.decode(ARGV[4])
redis.call('HSET', attempts, id, cjson.encode(record))
redis.call('HINCRBY', stats, 'failed', 1)
redis.call('HINCRBY', stats, 'retried', 1)
return record.attempts
