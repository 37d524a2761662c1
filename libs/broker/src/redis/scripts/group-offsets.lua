#!lua flags=no-writes
--[[
  group-offsets — one group's position on one partition, read atomically for describeGroup.

  KEYS[1]  log      stream  the partition log
  KEYS[2]  lease    string  the group's ownership lease
  KEYS[3]  delay    zset    the group's delay queue on the partition
  KEYS[4]  dlt      stream  the group's dead letters on the partition
  KEYS[5]  stats    hash    the group's counters on the partition
  KEYS[6]  taken    hash    delay-queue messages a worker took and has not finished
  ARGV[1]  group    string

  Returns  { state, highOffset, lowOffset, lastDeliveredSeq, pendingCount, minPendingSeq, owner,
             retrying, deadLettered, stats (flat field/value list), oldestOffset, oldestAppendMs,
             nowMs }
           retrying counts the delay queue and what a worker took from it.
           oldestOffset is the group's oldest unfinished message (pending, waiting for a retry or
           not yet read), -1 when it has finished everything; oldestAppendMs is the append time of
           the first stored message at or after it ('t': the Redis clock when it was appended,
           unless its producer set an explicit timestamp), -1 when none is stored; nowMs is the
           Redis clock, so lag in seconds never mixes clocks.
           state: 1 group positioned on the log, 0 group never read this partition, -1 no log.
           minPendingSeq is -1 with nothing pending; owner is '' without a live lease.
  Notes    The delay queue is ordered by due time, not offset: its oldest offset is looked for
           among its first 1,000 entries and everything taken from it, so a read stays bounded.
]]
--#include lib/clock.lua

local log, lease, delay, dlt, stats, taken = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local group = ARGV[1]
if redis.call('EXISTS', log) == 0 then
  return { -1 }
end
local function seq(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, dash + 1))
end

local info = redis.call('XINFO', 'STREAM', log)
local high = 0
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then high = info[i + 1] end
end
local low = high
local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
if #first > 0 then low = seq(first[1][1]) - 1 end

local state, lastDelivered, pending, minPending = 0, 0, 0, -1
for _, fields in ipairs(redis.call('XINFO', 'GROUPS', log)) do
  local name, lastId = nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'name' then name = fields[i + 1] end
    if fields[i] == 'last-delivered-id' then lastId = fields[i + 1] end
  end
  if name == group then
    state = 1
    lastDelivered = seq(lastId)
    local summary = redis.call('XPENDING', log, group)
    pending = summary[1]
    if pending > 0 then minPending = seq(summary[2]) end
  end
end

-- The oldest unfinished offset: offset n is sequence n + 1.
local oldest = -1
local function consider(offset)
  if offset >= 0 and (oldest < 0 or offset < oldest) then oldest = offset end
end
if state == 1 then
  if pending > 0 then consider(minPending - 1) end
  if lastDelivered < high then consider(math.max(lastDelivered, low)) end
  for _, id in ipairs(redis.call('ZRANGE', delay, 0, 999)) do consider(seq(id) - 1) end
  for _, id in ipairs(redis.call('HKEYS', taken)) do consider(seq(id) - 1) end
end
local oldestAppendMs = -1
if oldest >= 0 then
  local entry = redis.call('XRANGE', log, '0-' .. (oldest + 1), '+', 'COUNT', 1)
  if #entry > 0 then
    local fields = entry[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 't' then oldestAppendMs = tonumber(fields[i + 1]) break end
    end
  end
end

return {
  state, high, low, lastDelivered, pending, minPending,
  redis.call('GET', lease) or '',
  redis.call('ZCARD', delay) + redis.call('HLEN', taken),
  redis.call('XLEN', dlt),
  redis.call('HGETALL', stats),
  oldest, oldestAppendMs, nowMs(),
}
