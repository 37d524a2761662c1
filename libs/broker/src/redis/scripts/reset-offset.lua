#!lua flags=allow-oom
--[[
  reset-offset — move a group's position on a partition; what was pending there is forgotten.

  KEYS[1]  log        stream  the partition log
  KEYS[2]  lease      string  the group's ownership lease
  ARGV[1]  group      string
  ARGV[2]  offset     integer the next offset the group will read
  ARGV[3]  token      string  the token of a worker seeking on a partition it owns; '' for an admin reset
  ARGV[4]  force      '1' to reset even though a member holds the lease (admin only)

  Returns  { 'ok' } when moved; { 'held' } when a member holds the lease (admin reset without
           force); { 'fenced' } when a seeking worker's token no longer holds it; { 'gone' } when
           the log does not exist.
  Notes    The Redis consumer group is recreated at `0-<offset>` (the ID of offset - 1) with
           ENTRIESREAD = offset, so XINFO lag stays right; recreating also clears the pending list.
]]
local log, lease = KEYS[1], KEYS[2]
local group, offset, token, force = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('EXISTS', log) == 0 then
  return { 'gone' }
end
local holder = redis.call('GET', lease)
if token ~= '' then
  if holder ~= token then return { 'fenced' } end
elseif holder and force ~= '1' then
  return { 'held' }
end
redis.call('XGROUP', 'DESTROY', log, group)
redis.call('XGROUP', 'CREATE', log, group, '0-' .. offset, 'ENTRIESREAD', offset)
return { 'ok' }
