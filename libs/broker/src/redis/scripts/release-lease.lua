--[[
  release-lease — give a partition lease up so the next owner can take it at once.

  KEYS[1]  lease     string  the lease
  ARGV[1]  memberId  string  only this member's lease is deleted

  Returns  1 when released, 0 when this member did not hold it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
