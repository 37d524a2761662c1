--[[
  produce — append a batch of messages to one partition log, all or nothing.

  KEYS[1]  log       stream   the partition log; must already exist (createTopic makes it)
  ARGV[1]  maxLen    integer  approximate cap on the log length (XTRIM MAXLEN ~); 0 = no cap
  ARGV[2]  count     integer  number of messages in the batch
  ARGV[3…] messages  for each message: the number of field/value strings that follow, then those
                     strings (field, value, field, value, …)

  Returns  the sequence number of the first appended ID (`0-<seq>`); the others follow it densely
           because IDs `0-*` are generated in order and the script runs atomically.
  Errors   BROOK_UNKNOWN_PARTITION when the log does not exist (topic never created or deleted);
           nothing is written then.
]]
local log = KEYS[1]
local maxLen = tonumber(ARGV[1])
local count = tonumber(ARGV[2])

if redis.call('EXISTS', log) == 0 then
  return redis.error_reply('BROOK_UNKNOWN_PARTITION ' .. log)
end

local firstId
local at = 3
for _ = 1, count do
  local n = tonumber(ARGV[at])
  local id = redis.call('XADD', log, '0-*', unpack(ARGV, at + 1, at + n))
  if firstId == nil then firstId = id end
  at = at + n + 1
end

if maxLen > 0 then
  redis.call('XTRIM', log, 'MAXLEN', '~', maxLen)
end

return tonumber(string.sub(firstId, 3))
