#!lua flags=allow-oom
--[[
  claim — a new owner takes over what earlier owners of the partition left pending, in offset
  order and within a byte budget, together with the failure records of those messages. When the
  whole pending list has been scanned, the group's other Redis consumers (one per earlier lease,
  now without pending messages) are deleted, so they do not pile up.

  KEYS[1]  log       stream  the partition log
  KEYS[2]  lease     string  must hold token
  KEYS[3]  attempts  hash    stream ID → JSON failure record
  ARGV[1]  group     string
  ARGV[2]  token     string  the new owner's fencing token (its Redis consumer name)
  ARGV[3]  cursor    ID      where to continue the scan ('0-0' to start)
  ARGV[4]  count     integer at most this many entries
  ARGV[5]  maxBytes  integer byte budget (at least one entry)
  ARGV[6]  averageBytes integer estimate of one entry's size (0: unknown)

  Returns  { 'ok', nextCursor, packed, deletedIds, failureRecords } — nextCursor '0-0' once the
           whole pending list was scanned; packed as in lib/entries.lua; deletedIds are pending
           entries retention removed (they leave the pending list); failureRecords has one JSON
           record or false per packed entry; { 'fenced' }; { 'gone' } when the log or group is gone (NOGROUP).
  Errors   any other refusal of XAUTOCLAIM (a missing ACL permission) is raised, not taken for 'gone'.
  Notes    allow-oom: taking over must go on under maxmemory.
]]
--#include lib/entries.lua

local log, lease, attempts = KEYS[1], KEYS[2], KEYS[3]
local group, token, count, maxBytes = ARGV[1], ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('GET', lease) ~= token then
  return { 'fenced' }
end

local cursor, deleted, gone, scanned = ARGV[3], {}, false, false
local entries = readWithin(function(want)
  if scanned then return nil end
  local claimed = redis.pcall('XAUTOCLAIM', log, group, token, 0, cursor, 'COUNT', want)
  if type(claimed) == 'table' and claimed.err then
    if not string.find(claimed.err, 'NOGROUP', 1, true) then error(claimed) end
    gone = true
    return nil
  end
  cursor = claimed[1]
  scanned = cursor == '0-0'
  for _, id in ipairs(claimed[3] or {}) do deleted[#deleted + 1] = id end
  -- Fewer than asked with the scan unfinished (deleted entries count against XAUTOCLAIM's scan
  -- limit) ends this call; the caller continues from the cursor.
  return claimed[2]
end, count, maxBytes, firstReadCount(count, maxBytes, tonumber(ARGV[6])))
if gone then return { 'gone' } end

local records = {}
for i, entry in ipairs(entries) do
  records[i] = redis.call('HGET', attempts, entry[1])
end

if scanned then
  -- Every pending message is this token's now: the consumers of earlier leases are empty.
  local deletedConsumers = 0
  for _, fields in ipairs(redis.call('XINFO', 'CONSUMERS', log, group)) do
    local name, pending
    for f = 1, #fields, 2 do
      if fields[f] == 'name' then name = fields[f + 1] end
      if fields[f] == 'pending' then pending = fields[f + 1] end
    end
    if name ~= token and pending == 0 and deletedConsumers < 100 then
      redis.call('XGROUP', 'DELCONSUMER', log, group, name)
      deletedConsumers = deletedConsumers + 1
    end
  end
end

return { 'ok', cursor, packEntries(entries), deleted, records }
