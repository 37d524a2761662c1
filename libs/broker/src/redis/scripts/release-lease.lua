#!lua flags=allow-oom
--[[
  release-lease — give a partition lease up so the next owner can take it at once, and delete the
  Redis consumer of the token when nothing is pending for it (otherwise the next owner claims its
  messages and deletes it then).

  KEYS[1]  lease     string  the lease
  KEYS[2]  log       stream  the partition log
  KEYS[3]  delay     zset    the group's delay queue on the partition
  KEYS[4]  taken     hash    stream ID → token of the worker that took it from the delay queue
  ARGV[1]  token     string  only a lease held with this token is released
  ARGV[2]  group     string

  Returns  { 'ok' } when released, { 'stale' } when the lease was not held with this token.
  Notes    Messages the worker took from the delay queue and did not finish go back, due now.
]]
--#include lib/clock.lua

local lease, log, delay, taken = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, group = ARGV[1], ARGV[2]
local pending = redis.pcall('XPENDING', log, group, '-', '+', 1, token)
if type(pending) == 'table' and not pending.err and #pending == 0 then
  redis.pcall('XGROUP', 'DELCONSUMER', log, group, token)
end
if redis.call('GET', lease) ~= token then
  return { 'stale' }
end
redis.call('DEL', lease)
local ids = redis.call('HKEYS', taken)
if #ids > 0 then
  local now = nowMs()
  for _, id in ipairs(ids) do redis.call('ZADD', delay, now, id) end
  redis.call('DEL', taken)
end
return { 'ok' }
