#!lua flags=allow-oom
--[[
  trim-by-age — remove entries appended longer ago than the topic's retention from the head of a
  partition log, using the partition's time index and the Redis clock, so neither producer
  timestamps nor the caller's clock decide what is old.

  KEYS[1]  log         stream  the partition log
  KEYS[2]  times       zset    time index (see produce): '<bucketStartMs>:<lastOffset>' → append
                               time of the newest entry up to lastOffset
  ARGV[1]  maxAgeMs    integer entries appended more than this long ago are expired
  ARGV[2]  maxEntries  integer at most this many entries are removed per call

  Returns  { removed, more } — `more` is 1 when expired entries remain (call again).
  Notes    Entries are removed when every entry up to them is expired: an index point says all
           entries up to its offset were appended by its time. Precision is the index's one-second
           buckets. Kafka likewise deletes whole segments once their newest record is too old.
           allow-oom: trimming frees memory.
]]
--#include lib/clock.lua

local log, times = KEYS[1], KEYS[2]
local maxAgeMs, maxEntries = tonumber(ARGV[1]), tonumber(ARGV[2])
local cutoff = nowMs() - maxAgeMs

local point = redis.call('ZREVRANGEBYSCORE', times, cutoff, '-inf', 'LIMIT', 0, 1)
if #point == 0 then
  return { 0, 0 }
end
local expiredUpTo = tonumber(string.match(point[1], ':(%d+)$'))

local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
if #first == 0 then
  redis.call('ZREMRANGEBYSCORE', times, '-inf', cutoff)
  return { 0, 0 }
end
local low = tonumber(string.sub(first[1][1], 3)) - 1
if low > expiredUpTo then
  redis.call('ZREMRANGEBYSCORE', times, '-inf', cutoff)
  return { 0, 0 }
end

local upTo, more = expiredUpTo, 0
if expiredUpTo - low + 1 > maxEntries then
  upTo, more = low + maxEntries - 1, 1
end
-- Offset n is ID 0-(n + 1): keep IDs from 0-(upTo + 2) on.
local removed = redis.call('XTRIM', log, 'MINID', '0-' .. (upTo + 2))
if more == 0 then redis.call('ZREMRANGEBYSCORE', times, '-inf', cutoff) end
return { removed, more }
