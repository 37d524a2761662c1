--[[
  dead-letter — move a message the group cannot process to its dead-letter topic and acknowledge
  it, in one step: it is never both dead-lettered and still pending, nor lost in between.

  KEYS[1]  log         stream  the partition log
  KEYS[2]  lease       string  must hold memberId
  KEYS[3]  attempts    hash    stream ID → JSON failure record (removed)
  KEYS[4]  stats       hash    counters of the group on the partition
  KEYS[5]  delay       zset    the delay queue (the message leaves it when it came from there)
  KEYS[6]  payloads    hash    payloads of the delay queue
  KEYS[7]  dlt         stream  the group's dead letters for the partition
  ARGV[1]  group       string
  ARGV[2]  memberId    string
  ARGV[3]  id          string  stream ID of the message
  ARGV[4]  source      'log' | 'delay'
  ARGV[5]  nowMs       integer
  ARGV[6]  failed      '1' when this step records a failed handler attempt, '0' when the handler
                       never ran (undecodable payload, or attempts already used up)
  ARGV[7]  nDiag       integer number of diagnostic field/value strings that follow
  ARGV[8…] diagnostics field/value strings (topic, partition, offset, group, handler, attempts,
                       reason, errorName, errorMessage, errorStack)
  ARGV[…]  fields      the original message's field/value strings, unchanged

  Returns  the dead letter's stream ID, or -1 when fenced.
  Notes    firstFailureAt comes from the failure record when earlier attempts failed.
]]
local log, lease, attempts, stats, delay, payloads, dlt = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local group, memberId, id, source, now, failed = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('GET', lease) ~= memberId then
  return -1
end
local nDiag = tonumber(ARGV[7])
local firstFailureAt = now
local stored = redis.call('HGET', attempts, id)
if stored then firstFailureAt = cjson.decode(stored).firstFailureAt end

local entry = {}
for i = 8 + nDiag, #ARGV do entry[#entry + 1] = ARGV[i] end
for i = 8, 7 + nDiag do entry[#entry + 1] = ARGV[i] end
entry[#entry + 1] = 'firstFailureAt'
entry[#entry + 1] = tostring(firstFailureAt)
entry[#entry + 1] = 'lastFailureAt'
entry[#entry + 1] = now
local dltId = redis.call('XADD', dlt, '*', unpack(entry))

if source == 'log' then
  redis.call('XACK', log, group, id)
else
  redis.call('ZREM', delay, id)
  redis.call('HDEL', payloads, id)
end
redis.call('HDEL', attempts, id)
if failed == '1' then redis.call('HINCRBY', stats, 'failed', 1) end
redis.call('HINCRBY', stats, 'deadLettered', 1)
return dltId
