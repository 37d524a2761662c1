#!lua flags=allow-oom
--[[
  share-settle — a share-group member settles records it holds: acknowledges the handled ones,
  renews the lock of others (Kafka's RENEW), or releases them for another delivery after a delay.
  Each record is checked to be still held by this member from the same delivery: one whose lock
  ran out and that another member acquired is left alone (reported stale).

  KEYS[1]  log       stream  the partition log
  KEYS[2]  attempts  hash    stream ID → failure record (written on a release after a failure,
                             removed on acknowledgement)
  KEYS[3]  stats     hash    counters of the group on this partition
  ARGV[1]  group     string
  ARGV[2]  member    string
  ARGV[3]  action    'ack' | 'renew' | 'release'
  ARGV[4]  lockMs    integer the acquisition lock
  ARGV[5]  delayMs   integer for 'release': how long until another delivery (at most lockMs)
  ARGV[6]  error     string  for 'release' after a failure: JSON { name, message } to record; '' for none
  ARGV[7…] records   in triples: stream ID, delivery count, message id

  Returns  { 'ok', settled, stale }: how many were settled, and the IDs of those no longer held.
  Notes    Repeating a call changes nothing more: an acknowledged record is no longer pending; a
           renewed or released one is still held with the same delivery count, and setting its idle
           time again gives the same result. Times are Redis's (the pending list's idle times).
]]
--#include lib/clock.lua
--#include lib/share.lua

local log, attempts, stats = KEYS[1], KEYS[2], KEYS[3]
local group, member, action = ARGV[1], ARGV[2], ARGV[3]
local lockMs, delayMs, errorJson = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]

local held, stale = {}, {}
for i = 7, #ARGV, 3 do
  if holdsRecord(log, group, member, ARGV[i], ARGV[i + 1]) then
    held[#held + 1] = i
  else
    stale[#stale + 1] = ARGV[i]
  end
end
if #held == 0 then return { 'ok', 0, stale } end

local ids = {}
for n, i in ipairs(held) do ids[n] = ARGV[i] end
if action == 'ack' then
  local acknowledged = redis.call('XACK', log, group, unpack(ids))
  redis.call('HDEL', attempts, unpack(ids))
  if acknowledged > 0 then redis.call('HINCRBY', stats, 'processed', acknowledged) end
elseif action == 'renew' then
  -- The IDs go last: Lua passes only the first value of an unpack() that is not the last argument.
  local args = { 'XCLAIM', log, group, member, 0 }
  for _, id in ipairs(ids) do args[#args + 1] = id end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
else
  local idle = math.max(0, lockMs - math.min(delayMs, lockMs))
  local args = { 'XCLAIM', log, group, member, 0 }
  for _, id in ipairs(ids) do args[#args + 1] = id end
  args[#args + 1] = 'IDLE'
  args[#args + 1] = idle
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
  if errorJson ~= '' then
    local now = nowMs()
    for _, i in ipairs(held) do
      local id, delivery, messageId = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
      local record = { attempts = delivery, firstFailureAt = now, lastFailureAt = now, error = cjson.decode(errorJson), m = messageId }
      local stored = redis.call('HGET', attempts, id)
      if stored then
        local previous = cjson.decode(stored)
        if (previous.m or '') == messageId then record.firstFailureAt = previous.firstFailureAt end
      end
      redis.call('HSET', attempts, id, cjson.encode(record))
    end
    redis.call('HINCRBY', stats, 'failed', #held)
    redis.call('HINCRBY', stats, 'retried', #held)
  end
end
return { 'ok', #held, stale }
