#!lua flags=allow-oom
--[[
  remove-dead-letters — delete dead letters and their index entries in one step: the listed IDs
  (purge, or after a replay re-published them to the topic), or the oldest ones past the
  retention (`maxAgeMs` on the Redis clock, beyond `maxCount`). Repeating it changes nothing.

  KEYS[1]  dlt       stream  the group's dead letters for the partition
  KEYS[2]  tags      hash    the dead-letter index's tag counts
  KEYS[3]  keys      hash    message key → dead-letter IDs
  KEYS[4]  replays   hash    message stream ID → times replayed (the message's count is removed)
  KEYS[5…] postings  stream  the posting stream of each tag in ARGV, in that order
  ARGV[1]  mode      'ids' | 'retention'
  ARGV[2]  nTags     integer number of tags that follow
  ARGV[3…] tags      string  the tag of each posting key
  ARGV[…]  'ids': dead-letter stream IDs;
           'retention': maxAgeMs (integer ms, 0: no age limit), maxCount (integer, 0: no count
           limit), maxEntries (integer, most removed by this call)

  Returns  { 'ok', removed, more } — the IDs removed, and 1 when retention has more to remove;
           { 'retag', tag } when a dead letter's posting key was not passed (nothing changed).
  Notes    allow-oom: removing frees memory. Retention reads at most maxEntries entries.
]]
--#include lib/clock.lua
--#include lib/entries.lua
--#include lib/dead-letter-index.lua

local dlt, tags, keys, replays = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, nTags = ARGV[1], tonumber(ARGV[2])
local map, wrong = postingMap(5, { unpack(ARGV, 3, 2 + nTags) })
if not map then return redis.error_reply('ERR brook: posting key does not serve tag ' .. wrong) end
local rest = 3 + nTags

local found, more = {}, 0
if mode == 'ids' then
  for i = rest, #ARGV do
    local entry = redis.call('XRANGE', dlt, ARGV[i], ARGV[i])
    if #entry > 0 then found[#found + 1] = entry[1] end
  end
else
  local maxAgeMs, maxCount, maxEntries = tonumber(ARGV[rest]), tonumber(ARGV[rest + 1]), tonumber(ARGV[rest + 2])
  local excess = 0
  if maxCount > 0 then excess = math.max(0, redis.call('XLEN', dlt) - maxCount) end
  local cutoff = -1
  if maxAgeMs > 0 then cutoff = nowMs() - maxAgeMs end
  local head = redis.call('XRANGE', dlt, '-', '+', 'COUNT', maxEntries + 1)
  for i = 1, math.min(#head, maxEntries) do
    local ms = tonumber(string.match(head[i][1], '^(%d+)-'))
    if i <= excess or ms < cutoff then found[#found + 1] = head[i] else break end
  end
  if #found == maxEntries and #head > maxEntries then
    local ms = tonumber(string.match(head[maxEntries + 1][1], '^(%d+)-'))
    if maxEntries < excess or ms < cutoff then more = 1 end
  end
end

for _, entry in ipairs(found) do
  local missing = missingTag(map, entry[2])
  if missing then return { 'retag', missing } end
end
local removed = {}
for _, entry in ipairs(found) do
  unindexDeadLetter(tags, keys, map, entry[1], entry[2])
  local offset = tonumber(entryField(entry[2], 'offset') or '-1')
  if offset >= 0 then redis.call('HDEL', replays, '0-' .. (offset + 1)) end
  redis.call('XDEL', dlt, entry[1])
  removed[#removed + 1] = entry[1]
end
return { 'ok', removed, more }
