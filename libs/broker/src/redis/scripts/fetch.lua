--[[
  fetch — read new messages of one or more partitions for a member, refusing partitions whose lease
  it no longer holds, so a fenced member cannot pull messages into its pending list.

  KEYS     per partition, in pairs: log (stream), lease (string)
  ARGV[1]  group     string
  ARGV[2]  memberId  string  also the Redis consumer name
  ARGV[3…] count     integer per partition: at most this many messages

  Returns  one reply per partition: { 1, packed } with the entries read (an empty string when there
           was nothing new), { 0 } when the lease is not this member's, { -1 } when the log or the
           group is gone (topic deleted, or offsets reset by force).
           packed: the entries in order, each as its ID, the number of field/value strings, then
           those strings; every string is a 4-byte big-endian length followed by its bytes, and the
           count is a 4-byte big-endian integer. One string per partition is far cheaper for Redis
           to return and for the client to parse than the nested arrays XREADGROUP replies with.
]]
local group, memberId = ARGV[1], ARGV[2]
local pack = struct.pack
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
      result[n] = { 1, '' }
    else
      local parts, last = {}, 0
      for _, entry in ipairs(read[1][2]) do
        local id, fields = entry[1], entry[2] or {}
        last = last + 1
        parts[last] = pack('>I4', #id) .. id .. pack('>I4', #fields)
        for f = 1, #fields do
          parts[last + 1] = pack('>I4', #fields[f])
          parts[last + 2] = fields[f]
          last = last + 2
        end
      end
      result[n] = { 1, table.concat(parts) }
    end
  end
end
return result
