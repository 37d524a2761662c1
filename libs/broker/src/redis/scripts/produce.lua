#!lua
--[[
  produce — append a batch of messages to one partition log, all or nothing, once: the idempotent
  producer. A producer numbers its messages per partition (a sequence); the partition keeps, per
  producer, the last sequence appended and the last few batches, so a batch sent again (a lost
  reply, a retry) is answered with the offsets it already got instead of being appended twice.

  KEYS[1]  log        stream  the partition log; must already exist (createTopic makes it)
  KEYS[2]  producers  hash    producer id → state: 'epoch lastSeq lastWriteMs' then up to
                              BATCHES_KEPT × 'baseSeq firstOffset count appendMs'
  KEYS[3]  times      zset    time index: '<bucketStartMs>:<lastOffset>' → append time (ms) of the
                              newest entry up to lastOffset; kept only for topics with age retention
  ARGV[1]  producerId string  the producer
  ARGV[2]  epoch      integer 0 for a producer with a generated id; a stable producerId's instances
                              take increasing epochs, and a batch of an older epoch is refused
  ARGV[3]  baseSeq    integer the producer's sequence number of the first message of the batch
  ARGV[4]  maxLen     integer approximate cap on the log length (XTRIM MAXLEN ~); 0 = none
  ARGV[5]  timeIndex  '1' to keep the time index (the topic has age retention)
  ARGV[6]  minInSync  integer replicas that must be online and at most 10 s behind before anything
                              is appended (acks 'all'); 0 = no check
  ARGV[7]  aheadMs    integer largest allowed distance of an explicit timestamp into the future;
                              -1 = unlimited
  ARGV[8]  behindMs   integer largest allowed age of an explicit timestamp; -1 = unlimited
  ARGV[9]  count      integer messages in the batch
  ARGV[10…] messages  for each: its explicit timestamp (ms) or '' to stamp it with the append time,
                      the number of field/value strings that follow, then those strings

  Returns  { 'ok', firstOffset, appendMs, gapFrom, replicationId } — gapFrom is -1, or the first sequence number
           of this producer the partition never received: Redis lost writes it had acknowledged
           (a restart from an older snapshot, a failover to a lagging replica) or the producer gave
           up on a batch; the producer compares it with what it was told was written;
           replicationId is the server's master_replid when minInSync > 0 (else ''): on Cluster it
           tells the producer which primary really holds the write, so it WAITs there even when the
           script was redirected during a resharding;
           { 'duplicate', firstOffset, appendMs, replicationId } — this batch was appended before;
           nothing changes (with minInSync > 0 the producer state is written again, unchanged, so
           a WAIT on this connection covers the original append);
           { 'fenced', epoch } — a newer instance of this producer id (a higher epoch) wrote here;
           { 'gone' } — the log does not exist (the topic was deleted);
           { 'not-enough-replicas', inSync } — fewer replicas than minInSync; nothing appended;
           { 'invalid-timestamp', index, timestamp, nowMs } — message `index` (0-based) has a
           timestamp outside the allowed window; nothing appended;
           { 'out-of-order', lastSeq } — a batch overlapping what was appended but not one of the
           kept batches; nothing appended.
  Notes    Every entry gets the fields 'i' (message id: '<producerId>:<epoch>:<sequence>', unique
           across Redis rollbacks because sequences never go back) and 't' (the explicit timestamp
           or the append time). Producer state unused for a day is removed a little at a time.
           The script declares flags (none), so under maxmemory Redis refuses it before it runs
           instead of failing at the first XADD: a batch is never half-appended.
]]
--#include lib/clock.lua

local log, producers, times = KEYS[1], KEYS[2], KEYS[3]
local producerId, epoch, baseSeq = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local maxLen, timeIndex, minInSync = tonumber(ARGV[4]), ARGV[5] == '1', tonumber(ARGV[6])
local aheadMs, behindMs, count = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local BATCHES_KEPT = 5
local STATE_TTL_MS = 86400000

if redis.call('EXISTS', log) == 0 then
  return { 'gone' }
end
local now = nowMs()

-- The producer's state on this partition.
local storedEpoch, lastSeq, batches = epoch, -1, {}
local stored = redis.call('HGET', producers, producerId)
if stored then
  local words = {}
  for word in string.gmatch(stored, '%S+') do words[#words + 1] = tonumber(word) end
  storedEpoch, lastSeq = words[1], words[2]
  for b = 4, #words - 3, 4 do
    batches[#batches + 1] = { words[b], words[b + 1], words[b + 2], words[b + 3] }
  end
end
if storedEpoch > epoch then
  return { 'fenced', storedEpoch }
end
if storedEpoch < epoch then
  -- A new instance of a stable producer id: its sequences start over.
  lastSeq, batches = -1, {}
end

local lastOfBatch = baseSeq + count - 1
local replication, replicationId = '', ''
if minInSync > 0 then
  replication = redis.call('INFO', 'replication')
  replicationId = string.match(replication, 'master_replid:(%w+)') or ''
end

if baseSeq <= lastSeq then
  for _, batch in ipairs(batches) do
    if batch[1] == baseSeq and batch[3] == count then
      -- The caller WAITs next (acks 'all'), and WAIT covers only the writes of its own connection;
      -- the original append may have come on another (before a reconnect, or to the old primary
      -- before a failover). Writing the unchanged state again makes the WAIT cover it too.
      if minInSync > 0 then redis.call('HSET', producers, producerId, stored) end
      return { 'duplicate', batch[2], batch[4], replicationId }
    end
  end
  return { 'out-of-order', lastSeq }
end

if minInSync > 0 then
  local inSync = 0
  for state, lag in string.gmatch(replication, 'slave%d+:[^\r\n]*state=(%a+)[^\r\n]*lag=(%d+)') do
    if state == 'online' and tonumber(lag) <= 10 then inSync = inSync + 1 end
  end
  if inSync < minInSync then
    return { 'not-enough-replicas', inSync }
  end
end

-- Check every message before appending any.
local at = 10
for index = 0, count - 1 do
  local explicit = ARGV[at]
  if explicit ~= '' then
    local timestamp = tonumber(explicit)
    if (aheadMs >= 0 and timestamp > now + aheadMs) or (behindMs >= 0 and timestamp < now - behindMs) then
      return { 'invalid-timestamp', index, timestamp, now }
    end
  end
  at = at + 2 + tonumber(ARGV[at + 1])
end

local firstId, lastId
local idPrefix = producerId .. ':' .. epoch .. ':'
at = 10
for index = 0, count - 1 do
  local explicit, n = ARGV[at], tonumber(ARGV[at + 1])
  local messageId = idPrefix .. (baseSeq + index)
  local id
  if explicit == '' then
    id = redis.call('XADD', log, '0-*', 'i', messageId, 't', now, unpack(ARGV, at + 2, at + 1 + n))
  else
    id = redis.call('XADD', log, '0-*', 'i', messageId, 't', explicit, unpack(ARGV, at + 2, at + 1 + n))
  end
  firstId = firstId or id
  lastId = id
  at = at + 2 + n
end
local firstOffset = tonumber(string.sub(firstId, 3)) - 1
local lastOffset = tonumber(string.sub(lastId, 3)) - 1

local gapFrom = -1
if baseSeq > lastSeq + 1 then gapFrom = lastSeq + 1 end

batches[#batches + 1] = { baseSeq, firstOffset, count, now }
local state = { epoch, lastOfBatch, now }
for b = math.max(1, #batches - BATCHES_KEPT + 1), #batches do
  for _, value in ipairs(batches[b]) do state[#state + 1] = value end
end
redis.call('HSET', producers, producerId, table.concat(state, ' '))

-- Forget producers idle for a day, two samples per append, the way Redis expires keys.
for _, other in ipairs(redis.call('HRANDFIELD', producers, 2)) do
  if other ~= producerId then
    local lastWrite = tonumber(string.match(redis.call('HGET', producers, other) or '', '^%S+ %S+ (%S+)') or now)
    if now - lastWrite > STATE_TTL_MS then redis.call('HDEL', producers, other) end
  end
end

if timeIndex then
  -- One index point per second: the newest point is moved forward while its bucket is young.
  local newest = redis.call('ZRANGE', times, -1, -1, 'WITHSCORES')
  local bucketStart = now
  if #newest > 0 then
    local start = tonumber(string.match(newest[1], '^(%d+):'))
    if now - start < 1000 then
      bucketStart = start
      redis.call('ZREM', times, newest[1])
    end
    -- The index must not go back in time when the server clock does.
    now = math.max(now, tonumber(newest[2]))
  end
  redis.call('ZADD', times, now, bucketStart .. ':' .. lastOffset)
end

if maxLen > 0 then
  redis.call('XTRIM', log, 'MAXLEN', '~', maxLen)
end

return { 'ok', firstOffset, now, gapFrom, replicationId }
