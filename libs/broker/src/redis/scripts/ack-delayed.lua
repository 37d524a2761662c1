--[[
  ack-delayed — a retried message from the delay queue succeeded: remove it and its bookkeeping.

  KEYS[1]  lease     string  must hold memberId
  KEYS[2]  attempts  hash    stream ID → JSON failure record
  KEYS[3]  stats     hash    counters of the group on the partition
  KEYS[4]  delay     zset    stream ID → due time
  KEYS[5]  payloads  hash    stream ID → msgpack of the message's fields
  ARGV[1]  memberId  string
  ARGV[2…] ids       stream IDs of the messages

  Returns  the number of messages removed from the queue, or -1 when fenced.
]]
local lease, attempts, stats, delay, payloads = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('GET', lease) ~= ARGV[1] then
  return -1
end
local removed = redis.call('ZREM', delay, unpack(ARGV, 2))
redis.call('HDEL', payloads, unpack(ARGV, 2))
redis.call('HDEL', attempts, unpack(ARGV, 2))
if removed > 0 then redis.call('HINCRBY', stats, 'processed', removed) end
return removed
