-- Replaying dead letters to the group that failed them, shared by replay-dead-letters and
-- replay-job-step. Needs lib/entries.lua and lib/dead-letter-index.lua.

-- The entries of `ids` that exist, or nil and the first tag whose posting key `map` lacks.
local function readForReplay(dlt, map, ids)
  local found = {}
  for _, dltId in ipairs(ids) do
    local entry = redis.call('XRANGE', dlt, dltId, dltId)
    if #entry > 0 then
      local missing = missingTag(map, entry[1][2])
      if missing then return nil, missing end
      found[#found + 1] = entry[1]
    end
  end
  return found, nil
end

-- Puts each entry into the group's delay queue, due `now`, attempts reset, and removes it from the
-- dead letters and their index; a message replayed `maxReplays` times already (0: no cap) stays,
-- parked. Returns the dead-letter IDs replayed and those parked.
local function replayEntries(found, k, map, maxReplays, now)
  local original = { i = true, t = true, e = true, k = true, h = true, v = true }
  local replayed, parked = {}, {}
  for _, entry in ipairs(found) do
    local dltId, fields = entry[1], entry[2]
    local id = '0-' .. (tonumber(entryField(fields, 'offset')) + 1)
    local times = tonumber(redis.call('HGET', k.replays, id) or '0')
    if maxReplays > 0 and times >= maxReplays then
      parked[#parked + 1] = dltId
    else
      local message = {}
      for j = 1, #fields, 2 do
        if original[fields[j]] then
          message[#message + 1] = fields[j]
          message[#message + 1] = fields[j + 1]
        end
      end
      redis.call('ZADD', k.delay, now, id)
      redis.call('HSET', k.payloads, id, cmsgpack.pack(message))
      redis.call('HDEL', k.attempts, id)
      redis.call('HINCRBY', k.replays, id, 1)
      unindexDeadLetter(k.tags, k.keys, map, dltId, fields)
      redis.call('XDEL', k.dlt, dltId)
      replayed[#replayed + 1] = dltId
    end
  end
  return replayed, parked
end
