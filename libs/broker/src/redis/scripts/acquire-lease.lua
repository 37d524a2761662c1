--[[
  acquire-lease — take (or keep) a group's ownership lease on a partition, and make sure the group
  has a position on the partition log.

  KEYS[1]  lease    string  owner's member id, expiring after the lease time
  KEYS[2]  log      stream  the partition log
  ARGV[1]  memberId string
  ARGV[2]  leaseMs  integer lease time (the session timeout)
  ARGV[3]  group    string  group name (the Redis consumer group on the log)
  ARGV[4]  startId  string  where a group new to this partition starts: '0' (beginning) or '$' (end)

  Returns  { 1, lastDeliveredSeq } when the lease is held by this member; lastDeliveredSeq is the
           sequence of the group's last delivered ID (offset + 1 of the last message delivered);
           { 0, pttl } when another member holds it (pttl: ms until it expires);
           { -1 } when the log does not exist (the topic was deleted).
]]
local lease, log = KEYS[1], KEYS[2]
local memberId, leaseMs, group, startId = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if redis.call('EXISTS', log) == 0 then
  return { -1 }
end
local holder = redis.call('GET', lease)
if holder and holder ~= memberId then
  return { 0, redis.call('PTTL', lease) }
end
redis.call('SET', lease, memberId, 'PX', leaseMs)

local created = redis.pcall('XGROUP', 'CREATE', log, group, startId)
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
  return redis.error_reply(created.err)
end

local groups = redis.call('XINFO', 'GROUPS', log)
for _, fields in ipairs(groups) do
  local name, lastId = nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'name' then name = fields[i + 1] end
    if fields[i] == 'last-delivered-id' then lastId = fields[i + 1] end
  end
  if name == group then
    local dash = string.find(lastId, '-', 1, true)
    return { 1, tonumber(string.sub(lastId, dash + 1)) }
  end
end
return { 1, 0 }
