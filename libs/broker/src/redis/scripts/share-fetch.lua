#!lua flags=allow-oom
--[[
  share-fetch — a share-group member acquires records of one partition: first records whose
  acquisition lock ran out (their member died, froze, or released them for a retry), then new ones.
  Every member of a share group reads every partition; a record is acquired by one member at a time
  (it sits in that member's part of the Redis consumer group's pending list) until it is
  acknowledged, released or rejected, or its lock runs out.

  KEYS[1]  log       stream  the partition log
  KEYS[2]  attempts  hash    stream ID → failure record of an earlier delivery
  ARGV[1]  group     string  the share group (a Redis consumer group on the log)
  ARGV[2]  member    string  the member's id (its Redis consumer name)
  ARGV[3]  count     integer at most this many records
  ARGV[4]  maxBytes  integer byte budget (at least one record)
  ARGV[5]  lockMs    integer the acquisition lock: a record idle this long in the pending list is
                     free to acquire again
  ARGV[6]  averageBytes integer the member's estimate of one entry's size (0: unknown)
  ARGV[7]  startId   '0' | '$' where the group starts when it is new on this partition

  Returns  { 'ok', packed, deliveries, failures }: the records (packed as in lib/entries.lua), each
           one's delivery count (1 for a first delivery) and its failure record (false when none);
           { 'gone' } when the log is gone (topic deleted).
  Notes    Idle times and delivery counts are Redis's own (XPENDING, XCLAIM): one clock. A repeat after
           a lost reply acquires other records; those of the lost reply stay acquired by this member
           until their lock runs out, then any member gets them again (delivery count + 1).
           allow-oom: consuming must go on under maxmemory.
]]
--#include lib/entries.lua

local log, attempts = KEYS[1], KEYS[2]
local group, member = ARGV[1], ARGV[2]
local count, maxBytes, lockMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local averageBytes, startId = tonumber(ARGV[6]), ARGV[7]

if redis.call('EXISTS', log) == 0 then return { 'gone' } end
local created = redis.pcall('XGROUP', 'CREATE', log, group, startId)
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
  return redis.error_reply(created.err)
end

local entries, deliveries, failures = {}, {}, {}
local want = firstReadCount(count, maxBytes, averageBytes)

-- Records whose lock ran out.
local expired = redis.call('XPENDING', log, group, 'IDLE', lockMs, '-', '+', want)
if #expired > 0 then
  local ids, counts = {}, {}
  for i, pending in ipairs(expired) do
    ids[i] = pending[1]
    counts[pending[1]] = pending[4]
  end
  for _, entry in ipairs(redis.call('XCLAIM', log, group, member, lockMs, unpack(ids))) do
    if type(entry) == 'table' and entry[2] then
      entries[#entries + 1] = entry
      deliveries[#deliveries + 1] = counts[entry[1]] + 1
      failures[#failures + 1] = redis.call('HGET', attempts, entry[1])
    elseif type(entry) == 'table' then
      -- Retention removed it while it was pending: nothing can be delivered from it any more.
      redis.call('XACK', log, group, entry[1])
      redis.call('HDEL', attempts, entry[1])
    end
  end
end

-- New records.
if #entries < count then
  local bytes = 0
  for _, entry in ipairs(entries) do bytes = bytes + entryBytes(entry) end
  if #entries == 0 or bytes < maxBytes then
    local fresh = readWithin(function(n)
      local read = redis.call('XREADGROUP', 'GROUP', group, member, 'COUNT', n, 'STREAMS', log, '>')
      if not read or not read[1] then return nil end
      return read[1][2]
    end, count - #entries, math.max(1, maxBytes - bytes), firstReadCount(count - #entries, math.max(1, maxBytes - bytes), averageBytes))
    for _, entry in ipairs(fresh) do
      entries[#entries + 1] = entry
      deliveries[#deliveries + 1] = 1
      failures[#failures + 1] = false
    end
  end
end

return { 'ok', packEntries(entries), deliveries, failures }
