--[[
  renew-leases — extend the leases a member still holds, and tell it when the next message of each
  partition's delay queue is due (so retries and replays need no polling of their own).

  KEYS     per partition, in pairs: lease (string), delay (zset of stream ID → due time)
  ARGV[1]  memberId string
  ARGV[2]  leaseMs  integer new lease time

  Returns  per partition, flattened: renewed (1, or 0 when the lease is lost: expired or held by
           another member), then the earliest due time in its delay queue (-1 when empty).
  Notes    On Redis Cluster the caller passes one partition per call (its keys share a slot); on a
           single server all partitions go in one call.
]]
local memberId, leaseMs = ARGV[1], ARGV[2]
local result = {}
for i = 1, #KEYS, 2 do
  local renewed, due = 0, -1
  if redis.call('GET', KEYS[i]) == memberId then
    redis.call('PEXPIRE', KEYS[i], leaseMs)
    renewed = 1
    local first = redis.call('ZRANGE', KEYS[i + 1], 0, 0, 'WITHSCORES')
    if #first > 0 then due = tonumber(first[2]) end
  end
  result[#result + 1] = renewed
  result[#result + 1] = due
end
return result
