--[[
  renew-leases — extend the leases a member still holds.

  KEYS[1…]  lease    string  one lease key per partition
  ARGV[1]   memberId string
  ARGV[2]   leaseMs  integer new lease time

  Returns  one integer per key: 1 renewed, 0 lost (expired, or held by another member).
  Notes    On Redis Cluster the caller passes one key per call (leases live in their partitions'
           slots); on a single server all keys go in one call.
]]
local memberId, leaseMs = ARGV[1], ARGV[2]
local result = {}
for i, lease in ipairs(KEYS) do
  if redis.call('GET', lease) == memberId then
    redis.call('PEXPIRE', lease, leaseMs)
    result[i] = 1
  else
    result[i] = 0
  end
end
return result
