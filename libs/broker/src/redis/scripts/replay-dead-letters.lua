#!lua
--[[
  replay-dead-letters — send dead letters back to the group that failed them: each goes into the
  group's delay queue, due now, with its attempts reset, and leaves the dead-letter topic in the
  same step. Other groups reading the topic never see it again. Replaying the same IDs twice
  replays them once.

  KEYS[1]  dlt       stream  the group's dead letters for the partition
  KEYS[2]  delay     zset    the group's delay queue on the partition
  KEYS[3]  payloads  hash    payloads of the delay queue
  KEYS[4]  attempts  hash    stream ID → failure record (reset)
  ARGV[1…] ids       dead-letter stream IDs

  Returns  the dead-letter IDs that were replayed (missing ones are left out).
  Notes    The message keeps its original fields (message id, timestamp, key, headers, value); it is
           due now on the Redis clock.
]]
--#include lib/clock.lua

local dlt, delay, payloads, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local original = { i = true, t = true, e = true, k = true, h = true, v = true }
local now = nowMs()
local replayed = {}
for i = 1, #ARGV do
  local found = redis.call('XRANGE', dlt, ARGV[i], ARGV[i])
  if #found > 0 then
    local fields, message, offset = found[1][2], {}, nil
    for j = 1, #fields, 2 do
      if original[fields[j]] then
        message[#message + 1] = fields[j]
        message[#message + 1] = fields[j + 1]
      elseif fields[j] == 'offset' then
        offset = tonumber(fields[j + 1])
      end
    end
    local id = '0-' .. (offset + 1)
    redis.call('ZADD', delay, now, id)
    redis.call('HSET', payloads, id, cmsgpack.pack(message))
    redis.call('HDEL', attempts, id)
    redis.call('XDEL', dlt, ARGV[i])
    replayed[#replayed + 1] = ARGV[i]
  end
end
return replayed
