#!lua
--[[
  replay-dead-letters — send dead letters back to the group that failed them: each goes into the
  group's delay queue, due now, with its attempts reset, and leaves the dead-letter topic and its
  index in the same step. Other groups reading the topic never see it again. Replaying the same
  IDs twice replays them once. A message already replayed `maxReplays` times is parked: it stays a
  dead letter (the replay cap), unless the cap is 0.

  KEYS[1]  dlt       stream  the group's dead letters for the partition
  KEYS[2]  delay     zset    the group's delay queue on the partition
  KEYS[3]  payloads  hash    payloads of the delay queue
  KEYS[4]  attempts  hash    stream ID → failure record (reset)
  KEYS[5]  tags      hash    the dead-letter index's tag counts
  KEYS[6]  keys      hash    message key → dead-letter IDs
  KEYS[7]  replays   hash    message stream ID → times replayed (incremented)
  KEYS[8…] postings  stream  the posting stream of each tag in ARGV, in that order
  ARGV[1]  maxReplays integer replays after which a message is parked; 0: no cap (force)
  ARGV[2]  nTags     integer number of tags that follow
  ARGV[3…] tags      string  the tag of each posting key (see lib/dead-letter-index.lua)
  ARGV[…]  ids       dead-letter stream IDs

  Returns  { 'ok', replayed, parked } — the dead-letter IDs replayed and those left parked (missing
           ones are in neither); { 'retag', tag } when a dead letter's posting key was not passed
           (nothing changed: read the tags again and repeat).
  Notes    The message keeps its original fields (message id, timestamp, key, headers, value); it is
           due now on the Redis clock.
]]
--#include lib/clock.lua
--#include lib/entries.lua
--#include lib/dead-letter-index.lua
--#include lib/replay.lua

local k = { dlt = KEYS[1], delay = KEYS[2], payloads = KEYS[3], attempts = KEYS[4], tags = KEYS[5], keys = KEYS[6], replays = KEYS[7] }
local maxReplays, nTags = tonumber(ARGV[1]), tonumber(ARGV[2])
local map, wrong = postingMap(8, { unpack(ARGV, 3, 2 + nTags) })
if not map then return redis.error_reply('ERR brook: posting key does not serve tag ' .. wrong) end
local found, missing = readForReplay(k.dlt, map, { unpack(ARGV, 3 + nTags) })
if not found then return { 'retag', missing } end
local replayed, parked = replayEntries(found, k, map, maxReplays, nowMs())
return { 'ok', replayed, parked }
