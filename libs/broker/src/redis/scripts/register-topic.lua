--[[
  register-topic — record a topic's configuration, idempotently.

  KEYS[1]  topics      hash     topic name → JSON config
  ARGV[1]  topic       string   topic name (validated by the caller)
  ARGV[2]  config      string   JSON { partitions, retention: { maxMessages, maxAgeMs }, createdAt }

  Returns  { 'created', config } when the topic was new;
           { 'exists', storedConfig } when the same partitions and retention were stored already;
           { 'conflict', storedConfig } when a different configuration is stored (nothing changes).
]]
local topics = KEYS[1]
local topic = ARGV[1]
local config = ARGV[2]

local stored = redis.call('HGET', topics, topic)
if not stored then
  redis.call('HSET', topics, topic, config)
  return { 'created', config }
end

local want = cjson.decode(config)
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
