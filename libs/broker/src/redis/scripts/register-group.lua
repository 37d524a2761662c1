#!lua
--[[
  register-group — remember a group, its kind and the topics it consumes, for listGroups; refuse a
  name already used by a group of the other kind.

  KEYS[1]  groups  hash    group name → JSON { topics: [topic, …], kind?: 'share' }
  ARGV[1]  group   string
  ARGV[2]  kind    'exclusive' | 'share'
  ARGV[3…] topics  string  topics the group consumes (merged with those already recorded)

  Returns  { 'ok', changed } — changed 1 when the record changed; { 'kind', storedKind } when the
           group exists as the other kind (nothing changed).
]]
local groups, group, kind = KEYS[1], ARGV[1], ARGV[2]
local stored = redis.call('HGET', groups, group)
local known, list = {}, {}
if stored then
  local record = cjson.decode(stored)
  local storedKind = record.kind or 'exclusive'
  if storedKind ~= kind then return { 'kind', storedKind } end
  for _, topic in ipairs(record.topics) do
    known[topic] = true
    list[#list + 1] = topic
  end
end
local changed = stored == nil or stored == false
for i = 3, #ARGV do
  if not known[ARGV[i]] then
    known[ARGV[i]] = true
    list[#list + 1] = ARGV[i]
    changed = true
  end
end
if not changed then return { 'ok', 0 } end
table.sort(list)
local encoded = cjson.encode({ topics = list })
if #list == 0 then encoded = '{"topics":[]}' end
if kind == 'share' then encoded = string.sub(encoded, 1, -2) .. ',"kind":"share"}' end
redis.call('HSET', groups, group, encoded)
return { 'ok', 1 }
