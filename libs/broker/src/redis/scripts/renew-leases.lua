#!lua flags=allow-oom
--[[
  renew-leases — extend the leases a member still holds, and tell it when the next message of each
  partition's delay queue is due (so retries and replays need no polling of their own).

  KEYS     per partition, in pairs: lease (string), delay (zset of stream ID → due time)
  ARGV[1]  leaseMs  integer new lease time
  ARGV[2…] tokens   one per partition: the token the member holds it with

  Returns  per partition, flattened: renewed (1, or 0 when the lease is lost: expired or held with
           another token), then the milliseconds until the earliest message of its delay queue is
           due (0 when due already, -1 when the queue is empty or the lease is lost).
  Notes    On Redis Cluster the caller passes one partition per call (its keys share a slot), so a
           stalled shard delays only its own partitions; on a single server all go in one call.
           Times come from the Redis clock. allow-oom: renewals must go on under maxmemory.
]]
--#include lib/clock.lua

local leaseMs = ARGV[1]
local now = nowMs()
local result = {}
for i = 1, #KEYS, 2 do
  local renewed, due = 0, -1
  if redis.call('GET', KEYS[i]) == ARGV[1 + (i + 1) / 2] then
    redis.call('PEXPIRE', KEYS[i], leaseMs)
    renewed = 1
    local first = redis.call('ZRANGE', KEYS[i + 1], 0, 0, 'WITHSCORES')
    if #first > 0 then due = math.max(0, tonumber(first[2]) - now) end
  end
  result[#result + 1] = renewed
  result[#result + 1] = due
end
return result
