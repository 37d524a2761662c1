#!lua
--[[
  register-topic — record a topic's configuration, idempotently.

  KEYS[1]  topics      hash     topic name → JSON config
  ARGV[1]  topic       string   topic name (validated by the caller)
  ARGV[2]  config      string   JSON { partitions, retention: { maxMessages, maxAgeMs } }; createdAt
                                is set here from the Redis clock, so a topic deleted and created
                                again has a later createdAt whatever the callers' clocks say

  Returns  { 'created', config } when the topic was new;
           { 'exists', storedConfig } when the same partitions and retention were stored already;
           { 'conflict', storedConfig } when a different configuration is stored (nothing changes).
]]
local topics = KEYS[1]
local topic = ARGV[1]
local config = ARGV[2]

local stored = redis.call('HGET', topics, topic)
local want = cjson.decode(config)
if not stored then
  local time = redis.call('TIME')
  want.createdAt = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  config = cjson.encode(want)
  redis.call('HSET', topics, topic, config)
  return { 'created', config }
end

local have = cjson.decode(stored)
local function same(a, b)
  return a.partitions == b.partitions
    and a.retention.maxMessages == b.retention.maxMessages
    and a.retention.maxAgeMs == b.retention.maxAgeMs
end
if same(want, have) then
  return { 'exists', stored }
end
return { 'conflict', stored }
