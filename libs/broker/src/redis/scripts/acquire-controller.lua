#!lua flags=allow-oom
--[[
  acquire-controller — campaign for, or renew, the leader lease of the maintenance controller.
  Every new term gets a higher epoch, so a holder whose term ended (it expired while the holder was
  paused, or another holder took over) learns it from the epoch it gets back and stops.

  KEYS[1]  lease     hash     holder (string, '' when free), epoch (integer, the latest term),
                              expiresAt (ms on the Redis clock)
  ARGV[1]  holderId  string   the candidate
  ARGV[2]  epoch     integer  the term the candidate believes it holds, or 0 when it holds none
  ARGV[3]  leaseMs   integer  how long the term lasts without renewal

  Returns  { 1, epoch, leaseMs } when the candidate holds the lease after the call: the same epoch
           when ARGV[2] was still the current, unexpired term (renewed), a higher one otherwise (a
           new term, even for the same holder — work done in the old term stays distinguishable);
           { 0, epoch, remainingMs, holder } when another holder's term is still valid.
  Notes    The hash never expires, so epochs only grow; the clock is the Redis server's.
]]
local lease = KEYS[1]
local candidate, believed, leaseMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local state = redis.call('HMGET', lease, 'holder', 'epoch', 'expiresAt')
local holder = state[1] or ''
local epoch = tonumber(state[2]) or 0
local expiresAt = tonumber(state[3]) or 0
local valid = holder ~= '' and expiresAt > now

if valid and holder == candidate and epoch == believed then
  redis.call('HSET', lease, 'expiresAt', now + leaseMs)
  return { 1, epoch, leaseMs }
end
if valid and holder ~= candidate then
  return { 0, epoch, expiresAt - now, holder }
end
epoch = epoch + 1
redis.call('HSET', lease, 'holder', candidate, 'epoch', epoch, 'expiresAt', now + leaseMs)
return { 1, epoch, leaseMs }
