#!lua flags=allow-oom
--[[
  acquire-lease — take a group's ownership lease on a partition with a new fencing token, and make
  sure the group has a position on the partition log. Messages an earlier owner took from the
  delay queue go back into it, due now: whatever that owner still had in memory is the new owner's.

  KEYS[1]  lease     string  the owner's fencing token '<memberId>:<acquisition>', expiring after
                             the lease time
  KEYS[2]  log       stream  the partition log
  KEYS[3]  delay     zset    the group's delay queue on the partition
  KEYS[4]  taken     hash    stream ID → token of the worker that took it from the delay queue
  ARGV[1]  token     string  the new token; its acquisition part is unique per member process
  ARGV[2]  memberId  string  the member; a lease it holds under an older token is taken over (the
                             member makes sure the worker of the older token has stopped)
  ARGV[3]  leaseMs   integer lease time
  ARGV[4]  group     string  group name (the Redis consumer group on the log)
  ARGV[5]  startId   string  where a group new to this partition starts: '0' (beginning) or '$' (end)

  Returns  { 'ok', lastDeliveredSeq, logEnd } when the lease is held with the new token:
           lastDeliveredSeq is the sequence of the group's last delivered ID (offset + 1 of the
           last message delivered), logEnd the log end offset (entries ever added), which a member
           compares with what it saw before to notice that Redis lost writes;
           { 'held', pttl, holder } when another member holds it (pttl: ms until it expires);
           { 'gone' } when the log does not exist (the topic was deleted).
  Notes    The lease expires on the Redis clock (PX). allow-oom: ownership must keep working under
           maxmemory.
]]
--#include lib/clock.lua

local lease, log, delay, taken = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, memberId, leaseMs, group, startId = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

if redis.call('EXISTS', log) == 0 then
  return { 'gone' }
end
local holder = redis.call('GET', lease)
if holder and string.sub(holder, 1, #memberId + 1) ~= memberId .. ':' then
  return { 'held', redis.call('PTTL', lease), holder }
end
redis.call('SET', lease, token, 'PX', leaseMs)

local created = redis.pcall('XGROUP', 'CREATE', log, group, startId)
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
  return redis.error_reply(created.err)
end

local ids = redis.call('HKEYS', taken)
if #ids > 0 then
  local now = nowMs()
  for _, id in ipairs(ids) do redis.call('ZADD', delay, now, id) end
  redis.call('DEL', taken)
end

local lastDelivered, logEnd = 0, 0
for _, fields in ipairs(redis.call('XINFO', 'GROUPS', log)) do
  local name, lastId = nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'name' then name = fields[i + 1] end
    if fields[i] == 'last-delivered-id' then lastId = fields[i + 1] end
  end
  if name == group then lastDelivered = tonumber(string.sub(lastId, string.find(lastId, '-', 1, true) + 1)) end
end
local info = redis.call('XINFO', 'STREAM', log)
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then logEnd = info[i + 1] end
end
return { 'ok', lastDelivered, logEnd }
