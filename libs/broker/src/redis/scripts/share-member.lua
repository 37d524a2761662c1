#!lua
--[[
  share-member — a share-group member announces itself (and keeps doing so), or leaves. Members of
  one share group must use one acquisition lock length: a record is free to acquire again once it
  was idle that long, so a member with a shorter lock would take records others still hold.

  KEYS[1]  members  zset    member id → presence deadline (Redis clock, ms)
  KEYS[2]  info     hash    member id → JSON { clientId }
  KEYS[3]  lock     string  the group's acquisition lock length (ms), set by its members
  ARGV[1]  action   'beat' | 'leave'
  ARGV[2]  member   string
  ARGV[3]  ttlMs    integer how long the announcement holds
  ARGV[4]  lockMs   integer this member's acquisition lock
  ARGV[5]  info     string  JSON { clientId }

  Returns  { 'ok' }; { 'conflict', lockMs } when live members use another lock length (nothing
           changed). A lock length changes once no other member is live.
]]
--#include lib/clock.lua

local members, info, lock = KEYS[1], KEYS[2], KEYS[3]
local action, member, ttlMs, lockMs = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

if action == 'leave' then
  redis.call('ZREM', members, member)
  redis.call('HDEL', info, member)
  return { 'ok' }
end

local now = nowMs()
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', members, '-inf', now)) do
  redis.call('ZREM', members, gone)
  redis.call('HDEL', info, gone)
end
local stored = redis.call('GET', lock)
if stored and stored ~= lockMs then
  local others = redis.call('ZCARD', members) - (redis.call('ZSCORE', members, member) and 1 or 0)
  if others > 0 then return { 'conflict', stored } end
end
redis.call('SET', lock, lockMs)
redis.call('ZADD', members, now + ttlMs, member)
redis.call('HSET', info, member, ARGV[5])
return { 'ok' }
