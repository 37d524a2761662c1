#!lua flags=allow-oom
--[[
  share-leave — a share-group member that stops removes its Redis consumer from a partition's group
  when it holds no record there, so consumers do not pile up across restarts. One that still holds
  records keeps its consumer: deleting it would drop them from the pending list.

  KEYS[1]  log     stream  the partition log
  ARGV[1]  group   string
  ARGV[2]  member  string
  Returns  1 when the consumer was deleted, 0 otherwise.
]]
local log, group, member = KEYS[1], ARGV[1], ARGV[2]
local held = redis.pcall('XPENDING', log, group, '-', '+', 1, member)
if type(held) ~= 'table' or held.err or #held > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', log, group, member)
return 1
