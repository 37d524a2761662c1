#!lua flags=allow-oom
--[[
  release-controller — end the caller's term of the maintenance controller's leader lease, so
  another candidate can take over at its next campaign instead of waiting for the lease to expire.

  KEYS[1]  lease     hash     holder, epoch, expiresAt (see acquire-controller)
  ARGV[1]  holderId  string   the holder giving up
  ARGV[2]  epoch     integer  the term it gives up

  Returns  1 when released, 0 when that term was no longer the caller's (nothing changes).
  Notes    The epoch is kept, so the next term still gets a higher one.
]]
local lease = KEYS[1]
local holderId, epoch = ARGV[1], ARGV[2]

local state = redis.call('HMGET', lease, 'holder', 'epoch')
if state[1] == holderId and state[2] == epoch then
  redis.call('HSET', lease, 'holder', '', 'expiresAt', 0)
  return 1
end
return 0
