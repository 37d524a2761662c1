--[[
  fetch — read new messages of one or more partitions for a member, refusing partitions whose lease
  it no longer holds, so a fenced member cannot pull messages into its pending list.

  KEYS     per partition, in pairs: log (stream), lease (string)
  ARGV[1]  group     string
  ARGV[2]  memberId  string  also the Redis consumer name
  ARGV[3…] per partition, in pairs:
           count     integer at most this many messages
           after     ID      the member's read position on the partition (`0-<seq>` of the last
                             message it received)

  Returns  one reply per partition: { 1, packed } with the entries read (an empty string when there
           was nothing new), { 0 } when the lease is not this member's, { -1 } when the log or the
           group is gone (topic deleted, or offsets reset by force).
           packed: the entries in order, each as its ID, the number of field/value strings, then
           those strings; every string is a 4-byte big-endian length followed by its bytes, and the
           count is a 4-byte big-endian integer. One string per partition is far cheaper for Redis
           to return and for the client to parse than the nested arrays XREADGROUP replies with.
  Notes    A fetch is idempotent. Entries already delivered to this member after `after` belong to a
           fetch whose reply never arrived (a dropped connection, a command the client sent again,
           a Cluster read that failed on another node): they are returned again, oldest first,
           before anything new. Those that retention removed meanwhile are acknowledged and left
           out, so the member sees the gap and counts them as skipped.
]]
local group, memberId = ARGV[1], ARGV[2]
local pack = struct.pack

local function packed(entries)
  local parts, last = {}, 0
  for _, entry in ipairs(entries) do
    local id, fields = entry[1], entry[2]
    last = last + 1
    parts[last] = pack('>I4', #id) .. id .. pack('>I4', #fields)
    for f = 1, #fields do
      parts[last + 1] = pack('>I4', #fields[f])
      parts[last + 2] = fields[f]
      last = last + 2
    end
  end
  return table.concat(parts)
end

local result = {}
for i = 1, #KEYS, 2 do
  local log, lease = KEYS[i], KEYS[i + 1]
  local n = (i + 1) / 2
  local count, after = ARGV[1 + 2 * n], ARGV[2 + 2 * n]
  if redis.call('GET', lease) ~= memberId then
    result[n] = { 0 }
  else
    -- Normally empty: this member's pending entries past its read position.
    local read = redis.pcall('XREADGROUP', 'GROUP', group, memberId, 'COUNT', count, 'STREAMS', log, after)
    local entries = {}
    if type(read) == 'table' and not read.err and read[1] then
      local removed = {}
      for _, entry in ipairs(read[1][2]) do
        if entry[2] then entries[#entries + 1] = entry else removed[#removed + 1] = entry[1] end
      end
      if #removed > 0 then redis.call('XACK', log, group, unpack(removed)) end
    end
    if #entries == 0 then
      read = redis.pcall('XREADGROUP', 'GROUP', group, memberId, 'COUNT', count, 'STREAMS', log, '>')
      if type(read) == 'table' and not read.err and read[1] then
        for _, entry in ipairs(read[1][2]) do entries[#entries + 1] = { entry[1], entry[2] or {} } end
      end
    end
    if type(read) == 'table' and read.err then
      result[n] = { -1 }
    else
      result[n] = { 1, packed(entries) }
    end
  end
end
return result
