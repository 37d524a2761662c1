-- Share groups: a record belongs to the member that acquired it, with the delivery count it got,
-- until its lock runs out and another member acquires it (the count then goes up).

-- Whether `member` still holds record `id` from delivery `delivery` (its lock may have run out, but
-- nobody took it since).
local function holdsRecord(log, group, member, id, delivery)
  local found = redis.pcall('XPENDING', log, group, id, id, 1)
  if type(found) ~= 'table' or found.err or #found == 0 then return false end
  return found[1][2] == member and found[1][4] == tonumber(delivery)
end
