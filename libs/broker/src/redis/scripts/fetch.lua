#!lua flags=allow-oom
--[[
  fetch — read new messages of one or more partitions for their owners, within a byte budget,
  refusing partitions whose lease the caller no longer holds, so a fenced worker cannot pull
  messages into the pending list.

  KEYS     per partition, in pairs: log (stream), lease (string)
  ARGV[1]  group     string
  ARGV[2]  maxBytes  integer budget of the whole call; once spent, later partitions get nothing
                             (but the first partition with messages always gets one)
  ARGV[3…] per partition, six values:
           token     string  the fencing token the worker holds the lease with; also its Redis
                             consumer name
           count     integer at most this many messages
           after     ID      the worker's read position (`0-<seq>` of the last message it received)
           maxPartitionBytes integer budget of this partition (at least one message)
           averageBytes      integer the worker's estimate of one entry's size (0: unknown), to
                             size the first read
           recheck   '1' after a read of this worker failed or timed out: look for entries it
                     may have delivered without the worker receiving them first

  Returns  one reply per partition: { 'ok', packed } with the entries read (packed as in
           lib/entries.lua; an empty string when there was nothing new), { 'fenced' } when the
           lease is not held with that token, { 'gone' } when the log or the group is gone (topic
           deleted, or offsets reset by force: NOGROUP).
  Errors   any other refusal of XREADGROUP (a missing ACL permission) is raised, not taken for 'gone'.
  Notes    A fetch may be repeated: with `recheck`, entries already delivered to this token after
           `after` belong to a fetch whose reply never arrived (a command that timed out, a Cluster
           read that failed on another node): they are returned again, oldest first, before
           anything new. Those that retention removed meanwhile are acknowledged and left out, so
           the worker sees the gap.
           allow-oom: consuming must go on under maxmemory; a read adds only pending-list entries.
]]
--#include lib/entries.lua

local group, maxBytes = ARGV[1], tonumber(ARGV[2])
local spent, anyEntries = 0, false
local result = {}

for i = 1, #KEYS, 2 do
  local log, lease = KEYS[i], KEYS[i + 1]
  local n = (i + 1) / 2
  local at = 3 + (n - 1) * 6
  local token, count, after = ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2]
  local budget = math.min(tonumber(ARGV[at + 3]), maxBytes - spent)
  local averageBytes, recheck = tonumber(ARGV[at + 4]), ARGV[at + 5] == '1'

  if redis.call('GET', lease) ~= token then
    result[n] = { 'fenced' }
  elseif budget <= 0 and anyEntries then
    result[n] = { 'ok', '' }
  else
    budget = math.max(budget, 1)
    local first = firstReadCount(count, budget, averageBytes)
    local gone = false
    local entries = {}
    if recheck then
      -- This token's pending entries past its read position.
      local cursor = after
      local history = readWithin(function(want)
        local read = redis.pcall('XREADGROUP', 'GROUP', group, token, 'COUNT', want, 'STREAMS', log, cursor)
        if type(read) == 'table' and read.err then
          if not string.find(read.err, 'NOGROUP', 1, true) then error(read) end
          gone = true
          return nil
        end
        if not read or not read[1] or #read[1][2] == 0 then return nil end
        cursor = read[1][2][#read[1][2]][1]
        return read[1][2]
      end, count, budget, first)
      local removed = {}
      for _, entry in ipairs(history) do
        if entry[2] then entries[#entries + 1] = entry else removed[#removed + 1] = entry[1] end
      end
      if #removed > 0 then redis.call('XACK', log, group, unpack(removed)) end
    end
    if not gone and #entries == 0 then
      entries = readWithin(function(want)
        local read = redis.pcall('XREADGROUP', 'GROUP', group, token, 'COUNT', want, 'STREAMS', log, '>')
        if type(read) == 'table' and read.err then
          if not string.find(read.err, 'NOGROUP', 1, true) then error(read) end
          gone = true
          return nil
        end
        if not read or not read[1] then return nil end
        return read[1][2]
      end, count, budget, first)
    end
    if gone then
      result[n] = { 'gone' }
    else
      local packed = packEntries(entries)
      spent = spent + #packed
      if #entries > 0 then anyEntries = true end
      result[n] = { 'ok', packed }
    end
  end
end
return result
