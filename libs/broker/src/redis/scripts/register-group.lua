#!lua
--[[
  register-group — remember a group and the topics it consumes, for listGroups.

  KEYS[1]  groups  hash    group name → JSON { topics: [topic, …] }
  ARGV[1]  group   string
  ARGV[2…] topics  string  topics the group consumes (merged with those already recorded)

  Returns  1 when the record changed, 0 otherwise.
]]
local groups, group = KEYS[1], ARGV[1]
local stored = redis.call('HGET', groups, group)
local known, list = {}, {}
if stored then
  for _, topic in ipairs(cjson.decode(stored).topics) do
    known[topic] = true
    list[#list + 1] = topic
  end
end
local changed = stored == nil or stored == false
for i = 2, #ARGV do
  if not known[ARGV[i]] then
    known[ARGV[i]] = true
    list[#list + 1] = ARGV[i]
    changed = true
  end
end
if not changed then return 0 end
table.sort(list)
local encoded = cjson.encode({ topics = list })
if #list == 0 then encoded = '{"topics":[]}' end
redis.call('HSET', groups, group, encoded)
return 1
