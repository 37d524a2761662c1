#!lua
--[[
  dead-letter — move a message the group cannot process to its dead-letter topic and take it off
  the pending list (or out of the delay queue), in one step: it is never both dead-lettered and
  still pending, nor lost in between. Dead-lettering the same message twice writes one dead letter.

  KEYS[1]  log         stream  the partition log
  KEYS[2]  lease       string  must hold token
  KEYS[3]  attempts    hash    stream ID → JSON failure record (removed)
  KEYS[4]  stats       hash    counters of the group on the partition
  KEYS[5]  payloads    hash    payloads of the delay queue
  KEYS[6]  taken       hash    stream ID → token of the worker that took it from the delay queue
  KEYS[7]  dlt         stream  the group's dead letters for the partition
  KEYS[8]  tags        hash    the dead-letter index's tag counts (see lib/dead-letter-index.lua)
  KEYS[9]  keys        hash    message key → dead-letter IDs
  KEYS[10] reasonIx    stream  posting stream of the reason's tag
  KEYS[11] errorIx     stream  posting stream of the error name's tag
  KEYS[12] replays     hash    message stream ID → times replayed to the group
  ARGV[1]  group       string
  ARGV[2]  token       string
  ARGV[3]  id          string  stream ID of the message
  ARGV[4]  messageId   string  its message id ('' for entries written without one)
  ARGV[5]  source      'log' | 'delay' | 'shared:<delivery>' — a share group's record, held by
                       member `token` from that delivery (no lease: the record's holder is fenced)
  ARGV[6]  failed      '1' when this step records a failed handler attempt, '0' when the handler
                       did not run now (undecodable payload, attempts already used up)
  ARGV[7]  nDiag       integer number of diagnostic field/value strings that follow
  ARGV[8…] diagnostics field/value strings (topic, partition, offset, group, handler, attempts,
                       reason, errorName, errorMessage, errorStack)
  ARGV[…]  fields      the original message's field/value strings, unchanged

  Returns  { 'ok', deadLetterId }; { 'fenced' }; { 'stale', deadLetterId } when the message is no
           longer pending / taken by this token, or its offset holds another message — the ID of
           the dead letter an earlier call wrote for it when one is among the newest, else ''.
  Notes    firstFailureAt comes from the failure record when earlier attempts failed; times come
           from the Redis clock. The dead letter is indexed in the same step, and records how often
           the message was replayed before ('replays', the replay cap's count). No allow-oom: under maxmemory the message stays where it is.
]]
--#include lib/clock.lua
--#include lib/entries.lua
--#include lib/message.lua
--#include lib/share.lua
--#include lib/dead-letter-index.lua

local log, lease, attempts, stats, payloads, taken, dlt = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local tags, keys, reasonIx, errorIx, replays = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local group, token, id, messageId, source, failed = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local sharedDelivery = string.match(source, '^shared:(%d+)$')
if not sharedDelivery and redis.call('GET', lease) ~= token then
  return { 'fenced' }
end
local nDiag = tonumber(ARGV[7])

local here
if sharedDelivery then
  here = holdsRecord(log, group, token, id, sharedDelivery) and sameMessage(log, id, messageId) ~= 'other'
elseif source == 'log' then
  here = isPending(log, group, id) and sameMessage(log, id, messageId) ~= 'other'
else
  here = redis.call('HGET', taken, id) == token
end
if not here then
  -- A repeat of a call whose reply was lost: find the dead letter it wrote.
  local offset = nil
  for i = 8, 7 + nDiag, 2 do
    if ARGV[i] == 'offset' then offset = ARGV[i + 1] end
  end
  for _, entry in ipairs(redis.call('XREVRANGE', dlt, '+', '-', 'COUNT', 16)) do
    if entryField(entry[2], 'offset') == offset and (entryField(entry[2], 'i') or '') == messageId then
      return { 'stale', entry[1] }
    end
  end
  return { 'stale', '' }
end

local now = nowMs()
local record = failureRecord(attempts, id, messageId, now)
local entry = {}
for i = 8 + nDiag, #ARGV do entry[#entry + 1] = ARGV[i] end
for i = 8, 7 + nDiag do entry[#entry + 1] = ARGV[i] end
entry[#entry + 1] = 'firstFailureAt'
entry[#entry + 1] = tostring(record.firstFailureAt)
entry[#entry + 1] = 'lastFailureAt'
entry[#entry + 1] = tostring(now)
local replayed = redis.call('HGET', replays, id)
if replayed then
  entry[#entry + 1] = 'replays'
  entry[#entry + 1] = replayed
end
local reason, errorName, key = 'handler-error', '', nil
for i = 8, 7 + nDiag, 2 do
  if ARGV[i] == 'reason' then reason = ARGV[i + 1] elseif ARGV[i] == 'errorName' then errorName = ARGV[i + 1] end
end
for i = 8 + nDiag, #ARGV - 1, 2 do
  if ARGV[i] == 'k' then key = ARGV[i + 1] end
end
local mismatch = checkIndexKeys(reasonIx, errorIx, reason, errorName)
if mismatch then return mismatch end
local dltId = redis.call('XADD', dlt, '*', unpack(entry))
indexDeadLetter(tags, keys, reasonIx, errorIx, dltId, reason, errorName, key)

if source ~= 'delay' then
  redis.call('XACK', log, group, id)
else
  redis.call('HDEL', taken, id)
  redis.call('HDEL', payloads, id)
end
redis.call('HDEL', attempts, id)
if failed == '1' then redis.call('HINCRBY', stats, 'failed', 1) end
redis.call('HINCRBY', stats, 'deadLettered', 1)
return { 'ok', dltId }
