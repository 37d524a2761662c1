#!lua
--[[
  grow-topic — raise a topic's partition count; never lowers it.

  KEYS[1]  topics      hash     topic name → JSON config
  ARGV[1]  topic       string   topic name
  ARGV[2]  partitions  integer  the new partition count

  Returns  { 'grown', config } after raising the count, { 'same', config } when it already had that
           many partitions, { 'shrink', config } when the request is lower (nothing changes),
           { 'missing' } when the topic does not exist.
  Notes    The caller creates the new partition logs first, so producers that see the new count
           always find their logs.
]]
local topics = KEYS[1]
local topic = ARGV[1]
local partitions = tonumber(ARGV[2])

local stored = redis.call('HGET', topics, topic)
if not stored then
  return { 'missing' }
end
local config = cjson.decode(stored)
if partitions == config.partitions then
  return { 'same', stored }
end
if partitions < config.partitions then
  return { 'shrink', stored }
end
config.partitions = partitions
local updated = cjson.encode(config)
redis.call('HSET', topics, topic, updated)
return { 'grown', updated }
