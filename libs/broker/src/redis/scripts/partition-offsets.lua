#!lua flags=no-writes
--[[
  partition-offsets — the log start and log end offsets of one partition, read atomically.

  KEYS[1]  log  stream  the partition log

  Returns  { exists (0|1), highOffset, lowOffset, length }
           highOffset = next offset to be written (entries-added); lowOffset = offset of the oldest
           entry still in the log, or highOffset when the log is empty.
]]
local log = KEYS[1]
if redis.call('EXISTS', log) == 0 then
  return { 0, 0, 0, 0 }
end
local info = redis.call('XINFO', 'STREAM', log)
local high, length = 0, 0
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then high = info[i + 1] end
  if info[i] == 'length' then length = info[i + 1] end
end
local low = high
local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
if #first > 0 then
  low = tonumber(string.sub(first[1][1], 3)) - 1
end
return { 1, high, low, length }
