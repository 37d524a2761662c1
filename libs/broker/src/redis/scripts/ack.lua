#!lua flags=allow-oom
--[[
  ack — a worker acknowledges messages its handler processed; refused when its token no longer
  holds the partition's lease (fencing). Each message is named by its offset and its message id, so
  an acknowledgement sent before Redis lost writes cannot remove a different message that was
  given the same offset afterwards.

  KEYS[1]  log       stream  the partition log
  KEYS[2]  lease     string  must hold token
  KEYS[3]  attempts  hash    stream ID → failure record; records of acknowledged messages are removed
  KEYS[4]  stats     hash    counters of the group on this partition
  ARGV[1]  group     string
  ARGV[2]  token     string
  ARGV[3…] pairs     stream ID, message id ('' for entries written without one)

  Returns  { 'ok', acknowledged, stale } — acknowledged: messages that left the pending list;
           stale: IDs now holding another message (left pending for their owner to deliver);
           { 'fenced' }.
  Notes    Repeating an acknowledgement changes nothing: XACK of an acknowledged ID is a no-op, and
           the counter counts what XACK removed. An ID whose entry retention removed is
           acknowledged: nothing can be delivered from it any more.
           allow-oom: acknowledging must go on under maxmemory; it frees memory.
]]
--#include lib/entries.lua
--#include lib/message.lua

local log, lease, attempts, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, token = ARGV[1], ARGV[2]
if redis.call('GET', lease) ~= token then
  return { 'fenced' }
end
local ids, stale = {}, {}
local n = (#ARGV - 2) / 2
-- Acknowledgements usually cover consecutive offsets: one XRANGE over their span reads every
-- message id at once; scattered ones are checked one by one.
local low, high = math.huge, 0
for i = 3, #ARGV, 2 do
  local seq = tonumber(string.sub(ARGV[i], 3))
  if seq < low then low = seq end
  if seq > high then high = seq end
end
local stored = nil
if high - low + 1 <= 2 * n then
  stored = {}
  for _, entry in ipairs(redis.call('XRANGE', log, '0-' .. low, '0-' .. high)) do
    stored[entry[1]] = entryField(entry[2], 'i') or ''
  end
end
for i = 3, #ARGV, 2 do
  local same
  if stored then
    local found = stored[ARGV[i]]
    same = found == nil or found == ARGV[i + 1]
  else
    same = sameMessage(log, ARGV[i], ARGV[i + 1]) ~= 'other'
  end
  if same then ids[#ids + 1] = ARGV[i] else stale[#stale + 1] = ARGV[i] end
end
local acknowledged = 0
if #ids > 0 then
  acknowledged = redis.call('XACK', log, group, unpack(ids))
  redis.call('HDEL', attempts, unpack(ids))
  if acknowledged > 0 then redis.call('HINCRBY', stats, 'processed', acknowledged) end
end
return { 'ok', acknowledged, stale }
