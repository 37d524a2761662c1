--[[
  ack — a member acknowledges messages its handler processed; refused when it no longer holds the
  partition's lease (fencing), so a paused member cannot commit on top of the new owner.

  KEYS[1]  log       stream  the partition log
  KEYS[2]  lease     string  must hold memberId
  KEYS[3]  attempts  hash    stream ID → failure record; records of acknowledged messages are removed
  KEYS[4]  stats     hash    counters of the group on this partition
  ARGV[1]  group     string
  ARGV[2]  memberId  string
  ARGV[3…] ids       stream IDs to acknowledge

  Returns  the number of messages that left the pending list, or -1 when fenced.
]]
local log, lease, attempts, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, memberId = ARGV[1], ARGV[2]
if redis.call('GET', lease) ~= memberId then
  return -1
end
local acked = redis.call('XACK', log, group, unpack(ARGV, 3))
if redis.call('EXISTS', attempts) == 1 then
  redis.call('HDEL', attempts, unpack(ARGV, 3))
end
if acked > 0 then
  redis.call('HINCRBY', stats, 'processed', acked)
end
return acked
