-- The Redis server's clock in milliseconds: the one clock every due time, lease, session and
-- retention cutoff is computed from, so members with skewed clocks agree.
local function nowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
