--[[
  reset-offset — move a group's position on a partition; what was pending there is forgotten.

  KEYS[1]  log        stream  the partition log
  KEYS[2]  lease      string  the group's ownership lease
  ARGV[1]  group      string
  ARGV[2]  offset     integer the next offset the group will read
  ARGV[3]  memberId   string  a consumer seeking on a partition it owns; '' for an admin reset
  ARGV[4]  force      '1' to reset even though a member holds the lease (admin only)

  Returns  1 when moved; 0 when a member holds the lease (admin without force) or the caller is not
           the lease holder (seek); -1 when the log does not exist.
  Notes    The Redis consumer group is recreated at `0-<offset>` (the ID of offset - 1) with
           ENTRIESREAD = offset, so XINFO lag stays right; recreating also clears the pending list.
]]
local log, lease = KEYS[1], KEYS[2]
local group, offset, memberId, force = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('EXISTS', log) == 0 then
  return -1
end
local holder = redis.call('GET', lease)
if memberId ~= '' then
  if holder ~= memberId then return 0 end
elseif holder and force ~= '1' then
  return 0
end
redis.call('XGROUP', 'DESTROY', log, group)
redis.call('XGROUP', 'CREATE', log, group, '0-' .. offset, 'ENTRIESREAD', offset)
return 1
