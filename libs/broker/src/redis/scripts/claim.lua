--[[
  claim — a new owner takes over what previous owners of the partition left pending, in offset
  order, together with the failure records of those messages.

  KEYS[1]  log       stream  the partition log
  KEYS[2]  lease     string  must hold memberId
  KEYS[3]  attempts  hash    stream ID → JSON failure record (attempts, first/last failure, error)
  ARGV[1]  group     string
  ARGV[2]  memberId  string
  ARGV[3]  cursor    string  stream ID to continue from ('0-0' to start)
  ARGV[4]  count     integer at most this many entries

  Returns  { 1, nextCursor, entries, deletedIds, failureRecords } — nextCursor '0-0' when the whole
           pending list was scanned; deletedIds are pending entries that retention already removed
           (they leave the pending list); failureRecords holds one record (or false) per entry;
           { 0 } when the lease is not this member's; { -1 } when the log or group is gone.
]]
local log, lease, attempts = KEYS[1], KEYS[2], KEYS[3]
local group, memberId = ARGV[1], ARGV[2]
if redis.call('GET', lease) ~= memberId then
  return { 0 }
end
local claimed = redis.pcall('XAUTOCLAIM', log, group, memberId, 0, ARGV[3], 'COUNT', ARGV[4])
if type(claimed) == 'table' and claimed.err then
  return { -1 }
end
local records = {}
for i, entry in ipairs(claimed[2]) do
  records[i] = redis.call('HGET', attempts, entry[1])
end
return { 1, claimed[1], claimed[2], claimed[3] or {}, records }
