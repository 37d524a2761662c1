#!lua flags=no-writes
--[[
  search-dead-letters — one step of a dead-letter search on one partition: walks the candidates in
  dead-letter order from a position, checks each against every filter, and stops at `limit`
  matches, `budget` candidates examined, or `maxBytes` returned. Candidates come from the most
  selective index the caller chose: the dead letters of one message key, the posting stream of a
  reason or error name, or the whole dead-letter topic. Time ranges are ID ranges of either.

  KEYS[1]  dlt       stream  the group's dead letters for the partition
  KEYS[2]  postings  stream  the posting stream to walk in 'postings' mode (else any key of the slot)
  KEYS[3]  keys      hash    message key → dead-letter IDs
  ARGV[1]  mode      'postings' | 'key' | 'log'
  ARGV[2]  start     XRANGE start: '-', '<ms>-<seq>' or '(<ms>-<seq>' (exclusive, a cursor)
  ARGV[3]  end       XRANGE end: '+' or '<ms>-<seq>'
  ARGV[4]  reason    '' for any
  ARGV[5]  errorName '' for any; exact
  ARGV[6]  text      '' for any; lower-cased substring of the error message
  ARGV[7]  key       '' for any (mode 'key' needs it); exact message key
  ARGV[8]  fromOffset integer, -1 for no lower bound on the original offset
  ARGV[9]  toOffset  integer, -1 for no upper bound
  ARGV[10] parked    '' any, '1' only messages replayed at least maxReplays times, '0' only others
  ARGV[11] maxReplays integer
  ARGV[12] limit     integer matches wanted
  ARGV[13] budget    integer candidates to examine at most
  ARGV[14] maxBytes  integer bytes of matches to return at most (at least one is returned)
  ARGV[15] countOnly '1': count matches without returning them (dry runs), '0'

  Returns  { matches, last, done, count }: matches as { id, fields } entries; last the ID of the
           last candidate examined ('' none); done 1 when no candidate is left in the range; count
           the matches found; examined the candidates examined.
]]
--#include lib/entries.lua
--#include lib/dead-letter-index.lua

local dlt, postings, keys = KEYS[1], KEYS[2], KEYS[3]
local mode, start, stop = ARGV[1], ARGV[2], ARGV[3]
local reason, errorName, text, key = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local fromOffset, toOffset = tonumber(ARGV[8]), tonumber(ARGV[9])
local parked, maxReplays = ARGV[10], tonumber(ARGV[11])
local limit, budget, maxBytes = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local countOnly = ARGV[15] == '1'

local function matches(fields)
  if reason ~= '' and entryField(fields, 'reason') ~= reason then return false end
  if errorName ~= '' and entryField(fields, 'errorName') ~= errorName then return false end
  if key ~= '' and entryField(fields, 'k') ~= key then return false end
  if fromOffset >= 0 or toOffset >= 0 then
    local offset = tonumber(entryField(fields, 'offset') or '-1')
    if fromOffset >= 0 and offset < fromOffset then return false end
    if toOffset >= 0 and offset > toOffset then return false end
  end
  if parked ~= '' then
    local isParked = tonumber(entryField(fields, 'replays') or '0') >= maxReplays
    if isParked ~= (parked == '1') then return false end
  end
  if text ~= '' and not string.find(string.lower(entryField(fields, 'errorMessage') or ''), text, 1, true) then return false end
  return true
end

-- Stream IDs compare as (ms, seq).
local function parseId(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local am, as = parseId(a)
  local bm, bs = parseId(b)
  return am < bm or (am == bm and as < bs)
end

local found, bytes, examined, last, done, count = {}, 0, 0, '', 0, 0
local function examine(id, fields)
  examined = examined + 1
  last = id
  if fields and matches(fields) then
    count = count + 1
    if not countOnly then
      local entry = { id, fields }
      found[#found + 1] = entry
      bytes = bytes + entryBytes(entry)
    end
  end
  return count >= limit or examined >= budget or bytes >= maxBytes
end

if mode == 'key' then
  local ids = redis.call('HGET', keys, keyField(key))
  local exclusive, startId = string.match(start, '^(%(?)(.*)$')
  done = 1
  for id in string.gmatch(ids or '', '%S+') do
    local after = startId == '-' or (exclusive == '(' and before(startId, id)) or (exclusive ~= '(' and not before(id, startId))
    local within = stop == '+' or not before(stop, id)
    if after and within then
      local entry = redis.call('XRANGE', dlt, id, id)
      if examine(id, entry[1] and entry[1][2]) then done = 0 break end
    end
  end
  -- The loop above stopped early only when something may follow; a last page that ended exactly
  -- at the limit reports done = 0 and the next call finds nothing.
else
  local from = start
  while true do
    local count = math.min(budget - examined, 256)
    local batch = redis.call('XRANGE', mode == 'log' and dlt or postings, from, stop, 'COUNT', count)
    local stopped = false
    for _, candidate in ipairs(batch) do
      local fields = candidate[2]
      if mode ~= 'log' then
        local entry = redis.call('XRANGE', dlt, candidate[1], candidate[1])
        fields = entry[1] and entry[1][2]
      end
      if examine(candidate[1], fields) then stopped = true break end
    end
    if stopped then
      local next = redis.call('XRANGE', mode == 'log' and dlt or postings, '(' .. last, stop, 'COUNT', 1)
      if #next == 0 then done = 1 end
      break
    end
    if #batch < count then done = 1 break end
    from = '(' .. batch[#batch][1]
  end
end
return { found, last, done, count, examined }
