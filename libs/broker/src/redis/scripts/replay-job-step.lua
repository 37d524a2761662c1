#!lua
--[[
  replay-job-step — one step of a replay job on one partition: replays the dead letters the job's
  search found since its cursor and moves the cursor past every candidate examined, in one step,
  but only when the cursor is still where the caller read it. A step repeated after a lost reply,
  or run by a second runner (a controller that lost its lease while paused), finds the cursor
  moved and changes nothing: each dead letter is replayed once.

  KEYS[1]  dlt       stream  the group's dead letters for the partition
  KEYS[2]  delay     zset    the group's delay queue on the partition
  KEYS[3]  payloads  hash    payloads of the delay queue
  KEYS[4]  attempts  hash    stream ID → failure record (reset)
  KEYS[5]  tags      hash    the dead-letter index's tag counts
  KEYS[6]  keys      hash    message key → dead-letter IDs
  KEYS[7]  replays   hash    message stream ID → times replayed (incremented)
  KEYS[8]  progress  hash    the job's progress on the partition: cursor, replayed, parked, done
  KEYS[9…] postings  stream  the posting stream of each tag in ARGV, in that order
  ARGV[1]  expected  string  the cursor the caller read ('' before the first step)
  ARGV[2]  next      string  the cursor after this step (the last candidate examined)
  ARGV[3]  done      '1' when no candidate is left after `next`
  ARGV[4]  maxReplays integer the replay cap; 0: none (force)
  ARGV[5]  nTags     integer number of tags that follow
  ARGV[6…] tags      string  the tag of each posting key
  ARGV[…]  ids       dead-letter stream IDs to replay

  Returns  { 'ok', replayed, parked } (dead-letter IDs); { 'stale' } when the cursor moved;
           { 'retag', tag } when a posting key was missing (nothing changed).
]]
--#include lib/clock.lua
--#include lib/entries.lua
--#include lib/dead-letter-index.lua
--#include lib/replay.lua

local k = { dlt = KEYS[1], delay = KEYS[2], payloads = KEYS[3], attempts = KEYS[4], tags = KEYS[5], keys = KEYS[6], replays = KEYS[7] }
local progress = KEYS[8]
local expected, nextCursor, done, maxReplays, nTags = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
if (redis.call('HGET', progress, 'cursor') or '') ~= expected or redis.call('HGET', progress, 'done') == '1' then
  return { 'stale' }
end
local map, wrong = postingMap(9, { unpack(ARGV, 6, 5 + nTags) })
if not map then return redis.error_reply('ERR brook: posting key does not serve tag ' .. wrong) end
local found, missing = readForReplay(k.dlt, map, { unpack(ARGV, 6 + nTags) })
if not found then return { 'retag', missing } end
local replayed, parked = replayEntries(found, k, map, maxReplays, nowMs())
redis.call('HSET', progress, 'cursor', nextCursor, 'done', done)
redis.call('HINCRBY', progress, 'replayed', #replayed)
redis.call('HINCRBY', progress, 'parked', #parked)
return { 'ok', replayed, parked }
