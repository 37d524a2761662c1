--[[
  fetch — read new messages of one or more partitions for a member, refusing partitions whose lease
  it no longer holds, so a fenced member cannot pull messages into its pending list.

  KEYS     per partition, in pairs: log (stream), lease (string)
  ARGV[1]  group     string
  ARGV[2]  memberId  string  also the Redis consumer name
  ARGV[3…] count     integer per partition: at most this many messages

  Returns  one reply per partition: { 1, entries } with entries as XREADGROUP returns them (possibly
           empty), { 0 } when the lease is not this member's, { -1 } when the log or the group is
           gone (topic deleted, or offsets reset by force).
]]
local group, memberId = ARGV[1], ARGV[2]
local result = {}
for i = 1, #KEYS, 2 do
  local log, lease = KEYS[i], KEYS[i + 1]
  local n = (i + 1) / 2
  if redis.call('GET', lease) ~= memberId then
    result[n] = { 0 }
  else
    local read = redis.pcall('XREADGROUP', 'GROUP', group, memberId, 'COUNT', ARGV[2 + n], 'STREAMS', log, '>')
    if type(read) == 'table' and read.err then
      result[n] = { -1 }
    elseif not read then
      result[n] = { 1, {} }
    else
      result[n] = { 1, read[1][2] }
    end
  end
end
return result
