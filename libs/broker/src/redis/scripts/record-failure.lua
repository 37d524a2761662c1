#!lua flags=allow-oom
--[[
  record-failure — count a failed attempt of a message that stays pending (blocking retry), so the
  count survives a crash or a takeover. Recording the same attempt twice counts it once.

  KEYS[1]  log       stream  the partition log
  KEYS[2]  lease     string  must hold token
  KEYS[3]  attempts  hash    stream ID → JSON failure record { attempts, firstFailureAt,
                             lastFailureAt, error, m (message id) }
  KEYS[4]  stats     hash    counters of the group on this partition
  ARGV[1]  group     string
  ARGV[2]  token     string
  ARGV[3]  id        string  stream ID of the message
  ARGV[4]  messageId string  the message's id ('' for entries written without one)
  ARGV[5]  attempt   integer the attempt that failed (1 for the first delivery)
  ARGV[6]  error     string  JSON { name, message } of the failure (bounded by the caller)

  Returns  { 'ok', attempts } — failed attempts recorded so far; { 'fenced' }; { 'stale' } when the
           message is no longer pending for the group or its offset holds another message.
  Notes    Times come from the Redis clock.
]]
--#include lib/clock.lua
--#include lib/entries.lua
--#include lib/message.lua

local log, lease, attempts, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, token, id, messageId, attempt = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('GET', lease) ~= token then
  return { 'fenced' }
end
if not isPending(log, group, id) or sameMessage(log, id, messageId) == 'other' then
  return { 'stale' }
end
local now = nowMs()
local record = failureRecord(attempts, id, messageId, now)
if record.attempts < attempt then
  record.attempts = attempt
  record.lastFailureAt = now
  record.error = cjson.decode(ARGV[6])
  redis.call('HSET', attempts, id, cjson.encode(record))
  redis.call('HINCRBY', stats, 'failed', 1)
  redis.call('HINCRBY', stats, 'retried', 1)
end
return { 'ok', record.attempts }
