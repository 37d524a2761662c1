--[[
  trim-by-age — remove entries older than a cutoff from the head of a partition log.

  KEYS[1]  log       stream   the partition log
  ARGV[1]  cutoffMs  integer  entries whose timestamp field `t` is below this are expired
  ARGV[2]  maxScan   integer  at most this many entries are examined per call

  Returns  { removed, more } — `more` is 1 when the scan stopped at maxScan and expired entries
           may remain (call again).
  Notes    Kafka deletes whole segments once their newest record is older than the retention;
           Brook trims from the oldest entry up to the first one that is still young enough, so an
           entry with an old timestamp behind a young one survives until the young one expires.
]]
local log = KEYS[1]
local cutoff = tonumber(ARGV[1])
local maxScan = tonumber(ARGV[2])

local scanned = 0
local keepFrom = nil
local lastSeen = nil
local start = '-'
while scanned < maxScan do
  local batch = math.min(100, maxScan - scanned)
  local entries = redis.call('XRANGE', log, start, '+', 'COUNT', batch)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    scanned = scanned + 1
    local fields = entry[2]
    local t = nil
    for i = 1, #fields, 2 do
      if fields[i] == 't' then t = tonumber(fields[i + 1]) break end
    end
    if t ~= nil and t >= cutoff then
      keepFrom = entry[1]
      break
    end
    lastSeen = entry[1]
  end
  if keepFrom ~= nil or #entries < batch then break end
  start = '(' .. lastSeen
end

if keepFrom ~= nil then
  return { redis.call('XTRIM', log, 'MINID', keepFrom), 0 }
end
if lastSeen == nil then
  return { 0, 0 }
end
-- Everything examined is expired: drop it, and ask for another call if the scan was cut short.
local seq = tonumber(string.sub(lastSeen, 3))
local removed = redis.call('XTRIM', log, 'MINID', '0-' .. (seq + 1))
local more = 0
if scanned >= maxScan then more = 1 end
return { removed, more }
