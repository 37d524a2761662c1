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
  ARGV[3]  count     integer n, the number of messages
  ARGV[4]  checked   integer how many message ids follow the IDs: 1 (the highest only) or n
  ARGV[5…] ids       n stream IDs, the highest first
  ARGV[…]  messageIds the message ids of the first `checked` IDs, in the same order ('' for entries
                     written without one)

  Returns  { 'ok', acknowledged, stale } — acknowledged: messages that left the pending list;
           stale: IDs now holding another message (left pending for their owner to deliver);
           { 'unverified' } when only the highest message id was sent and it does not match:
           nothing changed; send again with every message id; { 'fenced' }.
  Notes    One entry is read to check the whole batch (its highest offset); each message is read
           only when that one differs. Repeating an acknowledgement changes nothing: XACK of an acknowledged ID is a no-op, and
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
local n, checked = tonumber(ARGV[3]), tonumber(ARGV[4])
local first, last = 5, 4 + n
-- Offsets are dense and only ever appended: if the highest offset acknowledged still holds the
-- message the caller handled, no rollback reassigned any offset at or below it, and every message of
-- the batch is the one handled. Only otherwise is each message checked on its own.
local acknowledged, stale = 0, {}
if sameMessage(log, ARGV[first], ARGV[last + 1]) == 'same' then
  acknowledged = redis.call('XACK', log, group, unpack(ARGV, first, last))
  if redis.call('EXISTS', attempts) == 1 then redis.call('HDEL', attempts, unpack(ARGV, first, last)) end
elseif checked < n then
  return { 'unverified' }
else
  local ids = {}
  for i = first, last do
    if sameMessage(log, ARGV[i], ARGV[i + n]) == 'other' then stale[#stale + 1] = ARGV[i] else ids[#ids + 1] = ARGV[i] end
  end
  if #ids > 0 then
    acknowledged = redis.call('XACK', log, group, unpack(ids))
    redis.call('HDEL', attempts, unpack(ids))
  end
end
if acknowledged > 0 then redis.call('HINCRBY', stats, 'processed', acknowledged) end
return { 'ok', acknowledged, stale }
