--[[
  take-due — hand the owner the messages of the group's delay queue that are due, hiding them from
  further takes for a visibility period (if the owner dies, the next owner gets them after it).

  KEYS[1]  lease       string  must hold memberId
  KEYS[2]  attempts    hash    stream ID → JSON failure record
  KEYS[3]  delay       zset    stream ID → due time (ms)
  KEYS[4]  payloads    hash    stream ID → msgpack of the message's fields
  ARGV[1]  memberId    string
  ARGV[2]  nowMs       integer
  ARGV[3]  count       integer at most this many messages
  ARGV[4]  visibleMs   integer how long taken messages stay hidden

  Returns  { 1, ids, fieldLists, failureRecords, nextDueMs } — nextDueMs is the earliest due time
           left in the queue, or -1 when it is empty; { 0 } when fenced.
]]
local lease, attempts, delay, payloads = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local memberId, now, count, visible = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
if redis.call('GET', lease) ~= memberId then
  return { 0 }
end
local ids, fields, records = {}, {}, {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delay, '-inf', now, 'LIMIT', 0, count)) do
  local packed = redis.call('HGET', payloads, id)
  if packed then
    ids[#ids + 1] = id
    fields[#fields + 1] = cmsgpack.unpack(packed)
    records[#records + 1] = redis.call('HGET', attempts, id)
    redis.call('ZADD', delay, 'XX', now + visible, id)
  else
    redis.call('ZREM', delay, id)
  end
end
local nextDue = -1
local first = redis.call('ZRANGE', delay, 0, 0, 'WITHSCORES')
if #first > 0 then nextDue = tonumber(first[2]) end
return { 1, ids, fields, records, nextDue }
