-- Checks that the log entry at `id` is the message `messageId` the caller handled. After Redis lost
-- writes (a restart from an older snapshot, a failover to a lagging replica) offsets are handed out
-- again, so an offset alone may name a different message. Returns 'same', 'other' (another message
-- holds the offset) or 'missing' (retention removed it, or it was never written).
local function sameMessage(log, id, messageId)
  local found = redis.call('XRANGE', log, id, id)
  if #found == 0 then return 'missing' end
  local stored = entryField(found[1][2], 'i') or ''
  if stored == messageId then return 'same' end
  return 'other'
end

-- Whether `id` is in the group's pending list (delivered, not yet acknowledged).
local function isPending(log, group, id)
  local found = redis.pcall('XPENDING', log, group, id, id, 1)
  return type(found) == 'table' and not found.err and #found > 0
end

-- The failure record of a message, or a fresh one when none is stored or the stored one belongs to
-- another message that held the same offset before Redis lost writes.
local function failureRecord(attempts, id, messageId, now)
  local stored = redis.call('HGET', attempts, id)
  if stored then
    local record = cjson.decode(stored)
    if (record.m or '') == messageId then return record end
  end
  return { attempts = 0, firstFailureAt = now, m = messageId }
end
