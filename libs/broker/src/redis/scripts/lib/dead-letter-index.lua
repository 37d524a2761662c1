-- The dead-letter index: posting streams per tag (reason, error name) whose entry IDs are the dead
-- letters' IDs, a hash of message key → dead-letter IDs, and a hash counting each tag. Written in
-- the script that writes the dead letter and cleaned in the scripts that remove dead letters, so a
-- search never scans the whole dead-letter topic. Every key comes from KEYS; posting keys are
-- checked against the tag they must serve.

-- The tag of an error name: the first 16 hex digits of its SHA-1 (names can be any text).
local function errorTag(errorName)
  return 'error:' .. string.sub(redis.sha1hex(errorName or ''), 1, 16)
end

-- The hash field a message key is indexed under: the key itself, or '#<sha1>' when longer than 64 bytes.
local function keyField(key)
  if #key <= 64 then return key end
  return '#' .. redis.sha1hex(key)
end

-- Whether `key` is the posting stream of `tag` (its name ends in ':<tag>').
local function servesTag(key, tag)
  return string.sub(key, -(#tag + 1)) == ':' .. tag
end

-- An error reply when the posting keys passed are not those of `reason` and `errorName`, else nil.
-- Checked before anything is written: a script cannot undo its writes.
local function checkIndexKeys(reasonPostings, errorPostings, reason, errorName)
  local reasonTag, errTag = 'reason:' .. reason, errorTag(errorName)
  if servesTag(reasonPostings, reasonTag) and servesTag(errorPostings, errTag) then return nil end
  return redis.error_reply('ERR brook: dead-letter index keys do not match ' .. reasonTag .. ' / ' .. errTag)
end

-- Indexes dead letter `id`: its reason and error name postings, its message key (nil: no key).
local function indexDeadLetter(tags, keys, reasonPostings, errorPostings, id, reason, errorName, key)
  local reasonTag, errTag = 'reason:' .. reason, errorTag(errorName)
  redis.call('XADD', reasonPostings, id, 'x', '')
  redis.call('XADD', errorPostings, id, 'x', '')
  redis.call('HINCRBY', tags, reasonTag, 1)
  redis.call('HINCRBY', tags, errTag, 1)
  if key then
    local field = keyField(key)
    local ids = redis.call('HGET', keys, field)
    if ids then redis.call('HSET', keys, field, ids .. ' ' .. id) else redis.call('HSET', keys, field, id) end
  end
end

-- The posting keys a removal script received: KEYS[first…] named by ARGV tags, as a map tag → key.
local function postingMap(first, tagsArgv)
  local map = {}
  for i = 1, #tagsArgv do map[tagsArgv[i]] = KEYS[first + i - 1] end
  for tag, key in pairs(map) do
    if not servesTag(key, tag) then return nil, tag end
  end
  return map, nil
end

-- The tags of a dead letter whose posting keys a removal needs but `map` lacks (nil when none).
local function missingTag(map, fields)
  local reasonTag = 'reason:' .. (entryField(fields, 'reason') or '')
  if not map[reasonTag] then return reasonTag end
  local errTag = errorTag(entryField(fields, 'errorName'))
  if not map[errTag] then return errTag end
  return nil
end

-- Removes dead letter `id` (its fields as stored) from the index; the caller deletes the entry.
local function unindexDeadLetter(tags, keys, map, id, fields)
  for _, tag in ipairs({ 'reason:' .. (entryField(fields, 'reason') or ''), errorTag(entryField(fields, 'errorName')) }) do
    redis.call('XDEL', map[tag], id)
    if redis.call('HINCRBY', tags, tag, -1) <= 0 then
      redis.call('HDEL', tags, tag)
      redis.call('DEL', map[tag])
    end
  end
  local key = entryField(fields, 'k')
  if key then
    local field = keyField(key)
    local ids = redis.call('HGET', keys, field)
    if ids then
      local kept = {}
      for other in string.gmatch(ids, '%S+') do
        if other ~= id then kept[#kept + 1] = other end
      end
      if #kept == 0 then redis.call('HDEL', keys, field) else redis.call('HSET', keys, field, table.concat(kept, ' ')) end
    end
  end
end
