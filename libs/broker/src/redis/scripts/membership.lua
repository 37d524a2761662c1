#!lua flags=allow-oom
--[[
  membership — a member heartbeats (join) or leaves; the group's assignment is recomputed in the
  same atomic step whenever the live members, their subscriptions or the partition counts changed.

  KEYS[1]  members     zset   member id → session deadline (Redis clock, ms)
  KEYS[2]  memberInfo  hash   member id → JSON { clientId, topics: [topic, …] }
  KEYS[3]  assignment  hash   member id → JSON [ "topic:partition", … ]; plus __generation,
                              __fingerprint (sha1 of what the assignment was computed from) and
                              __primary (master_replid of the server that last ran this script)
  KEYS[4]  topics      hash   topic → '<partition count> <createdAt>' the group knows: the count
                              only grows for one topic; a later createdAt (the topic was deleted
                              and created again) replaces it
  KEYS[5]  origins     hash   topic → partition count when the group first subscribed to it
  ARGV[1]  op          'join' | 'leave'
  ARGV[2]  memberId    string
  ARGV[3]  sessionMs   integer  session timeout; the member is dropped this long after its last heartbeat
  ARGV[4]  info        string   JSON { clientId, topics } of the member (join only)
  ARGV[5…] topics      triples of topic, partition count, createdAt as the member sees them (join only)

  Returns  { generation, owned (JSON list of "topic:partition"), origins (flat topic, count list),
             msUntilNextExpiry (earliest deadline of another member, -1 when none), liveMembers }
  Notes    Assignment per topic: the live members subscribed to it share its partitions so counts
           differ by at most one. Members keep what they own up to their quota (the larger quotas go
           to those owning most), and only the surplus and orphaned partitions move: a join or a
           leave moves no more partitions than balance requires.
           A server other than the last one (a failover, a restart) gives every member a session
           from now, as a new Kafka group coordinator does: it heard no heartbeat while the old one
           was dying and the new one was elected, so deadlines from before say nothing about the
           members. Times come from the Redis clock. allow-oom: membership must keep working under maxmemory,
           or every member would lose its partitions while acknowledgements still work.
]]
--#include lib/clock.lua

local membersKey, infoKey, assignKey, topicsKey, originsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, memberId, sessionMs = ARGV[1], ARGV[2], tonumber(ARGV[3])

local now = nowMs()

local primary = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)') or ''
local lastPrimary = redis.call('HGET', assignKey, '__primary')
if lastPrimary ~= primary then
  if lastPrimary then
    for _, id in ipairs(redis.call('ZRANGE', membersKey, 0, -1)) do redis.call('ZADD', membersKey, 'GT', now + sessionMs, id) end
  end
  redis.call('HSET', assignKey, '__primary', primary)
end

-- Drop members whose session expired.
local expired = redis.call('ZRANGEBYSCORE', membersKey, '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', membersKey, id)
  redis.call('HDEL', infoKey, id)
end

if op == 'join' then
  redis.call('ZADD', membersKey, now + sessionMs, memberId)
  if redis.call('HGET', infoKey, memberId) ~= ARGV[4] then
    redis.call('HSET', infoKey, memberId, ARGV[4])
  end
  for i = 5, #ARGV, 3 do
    local topic, count, createdAt = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    local known = redis.call('HGET', topicsKey, topic)
    local knownCount, knownCreatedAt = 0, 0
    if known then
      knownCount, knownCreatedAt = string.match(known, '^(%d+) (%d+)$')
      knownCount, knownCreatedAt = tonumber(knownCount) or 0, tonumber(knownCreatedAt) or 0
    end
    if createdAt > knownCreatedAt then
      -- New, or deleted and created again: its partitions start from what it has now.
      redis.call('HSET', topicsKey, topic, count .. ' ' .. createdAt)
      redis.call('HSET', originsKey, topic, count)
    elseif createdAt == knownCreatedAt and count > knownCount then
      redis.call('HSET', topicsKey, topic, count .. ' ' .. createdAt)
    end
  end
else
  redis.call('ZREM', membersKey, memberId)
  redis.call('HDEL', infoKey, memberId)
end

-- What the assignment depends on, in a stable order.
local ids = redis.call('ZRANGE', membersKey, 0, -1)
table.sort(ids)
local infos = {}
local parts = {}
for _, id in ipairs(ids) do
  infos[id] = redis.call('HGET', infoKey, id) or '{"topics":[]}'
  parts[#parts + 1] = id .. '=' .. infos[id]
end
local counts = redis.call('HGETALL', topicsKey)
for i = 2, #counts, 2 do counts[i] = string.match(counts[i], '^(%d+)') end
for i = 1, #counts, 2 do parts[#parts + 1] = '#' .. counts[i] .. '=' .. counts[i + 1] end
table.sort(parts)
local fingerprint = redis.sha1hex(table.concat(parts, '\n'))

if redis.call('HGET', assignKey, '__fingerprint') ~= fingerprint then
  local subscribers = {}
  for _, id in ipairs(ids) do
    for _, topic in ipairs(cjson.decode(infos[id]).topics) do
      subscribers[topic] = subscribers[topic] or {}
      table.insert(subscribers[topic], id)
    end
  end

  local owner = {}
  local current = redis.call('HGETALL', assignKey)
  for i = 1, #current, 2 do
    if string.sub(current[i], 1, 2) ~= '__' then
      for _, tp in ipairs(cjson.decode(current[i + 1])) do owner[tp] = current[i] end
    end
  end

  local owned = {}
  for _, id in ipairs(ids) do owned[id] = {} end
  for i = 1, #counts, 2 do
    local topic, n = counts[i], tonumber(counts[i + 1])
    local eligible = subscribers[topic]
    if eligible ~= nil and #eligible > 0 then
      local have, isEligible, free = {}, {}, {}
      for _, id in ipairs(eligible) do have[id] = {}; isEligible[id] = true end
      for p = 0, n - 1 do
        local o = owner[topic .. ':' .. p]
        if o ~= nil and isEligible[o] then table.insert(have[o], p) else table.insert(free, p) end
      end
      local order = {}
      for _, id in ipairs(eligible) do order[#order + 1] = id end
      table.sort(order, function(a, b)
        if #have[a] ~= #have[b] then return #have[a] > #have[b] end
        return a < b
      end)
      local base, extra = math.floor(n / #order), n % #order
      local quota = {}
      for idx, id in ipairs(order) do
        quota[id] = base
        if idx <= extra then quota[id] = base + 1 end
      end
      for _, id in ipairs(order) do
        while #have[id] > quota[id] do table.insert(free, table.remove(have[id])) end
      end
      table.sort(free)
      for _, p in ipairs(free) do
        local best = nil
        for _, id in ipairs(order) do
          if #have[id] < quota[id] and (best == nil or #have[id] < #have[best]) then best = id end
        end
        table.insert(have[best], p)
      end
      for _, id in ipairs(eligible) do
        for _, p in ipairs(have[id]) do table.insert(owned[id], topic .. ':' .. p) end
      end
    end
  end

  local generation = tonumber(redis.call('HGET', assignKey, '__generation') or '0') + 1
  redis.call('DEL', assignKey)
  redis.call('HSET', assignKey, '__generation', generation, '__fingerprint', fingerprint, '__primary', primary)
  for _, id in ipairs(ids) do
    if #owned[id] > 0 then redis.call('HSET', assignKey, id, cjson.encode(owned[id])) end
  end
end

local generation = tonumber(redis.call('HGET', assignKey, '__generation') or '0')
local mine = '[]'
if op == 'join' then mine = redis.call('HGET', assignKey, memberId) or '[]' end

local next = -1
local earliest = redis.call('ZRANGE', membersKey, 0, 1, 'WITHSCORES')
for i = 1, #earliest, 2 do
  if earliest[i] ~= memberId then
    next = math.max(0, tonumber(earliest[i + 1]) - now)
    break
  end
end

local origins = redis.call('HGETALL', originsKey)
return { generation, mine, origins, next, #ids }
