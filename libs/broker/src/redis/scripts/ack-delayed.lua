#!lua flags=allow-oom
--[[
  ack-delayed — retried messages the owner took from the delay queue succeeded: remove them and
  their bookkeeping. Repeating it changes nothing.

  KEYS[1]  lease     string  must hold token
  KEYS[2]  attempts  hash    stream ID → JSON failure record
  KEYS[3]  stats     hash    counters of the group on the partition
  KEYS[4]  payloads  hash    stream ID → msgpack of the message's fields
  KEYS[5]  taken     hash    stream ID → token of the worker that took it
  ARGV[1]  token     string
  ARGV[2…] ids       stream IDs of the messages

  Returns  { 'ok', removed, stale } — stale: IDs this token does not hold (already removed, or taken
           over by another owner); { 'fenced' }.
]]
local lease, attempts, stats, payloads, taken = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local token = ARGV[1]
if redis.call('GET', lease) ~= token then
  return { 'fenced' }
end
local removed, stale = 0, {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', taken, id) == token then
    redis.call('HDEL', taken, id)
    redis.call('HDEL', payloads, id)
    redis.call('HDEL', attempts, id)
    removed = removed + 1
  else
    stale[#stale + 1] = id
  end
end
if removed > 0 then redis.call('HINCRBY', stats, 'processed', removed) end
return { 'ok', removed, stale }
