#!lua
--[[
  create-partition — make an empty partition log if it does not exist yet.

  KEYS[1]  log  stream  the partition log

  Returns  1 when the log was created, 0 when it already existed.
  Notes    Redis has no command that creates an empty stream, so the script creates one through a
           throw-away consumer group and removes the group again. The log starts with
           entries-added = 0, so the first message gets offset 0.
]]
local log = KEYS[1]
if redis.call('EXISTS', log) == 1 then
  return 0
end
redis.call('XGROUP', 'CREATE', log, '__brook-create', '$', 'MKSTREAM')
redis.call('XGROUP', 'DESTROY', log, '__brook-create')
return 1
