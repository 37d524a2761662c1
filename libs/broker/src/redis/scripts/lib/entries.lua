-- Reading log entries within a byte budget, and packing them for the client.

-- Bytes of an entry as the client will receive it: its ID and every field and value.
local function entryBytes(entry)
  local bytes = #entry[1]
  local fields = entry[2]
  if fields then
    for f = 1, #fields do bytes = bytes + #fields[f] end
  end
  return bytes
end

-- The value of field `name` of an entry, or nil. Message ids ('i') are written first, so the loop
-- normally stops at once.
local function entryField(fields, name)
  if not fields then return nil end
  for f = 1, #fields, 2 do
    if fields[f] == name then return fields[f + 1] end
  end
  return nil
end

-- Calls `read(count)` (a read that consumes what it returns, such as XREADGROUP '>') repeatedly,
-- sizing each call so the total stays within `maxBytes`: the first call reads `firstCount` entries
-- (from the caller's estimate of the entry size), later calls as many as the average size so far
-- leaves room for. At least one entry is read when one exists. Returns the entries; sizes are only
-- summed when a further read must be sized (the common single read costs nothing extra).
local function readWithin(read, count, maxBytes, firstCount)
  local want = math.max(1, math.min(count, firstCount))
  local entries = read(want)
  if entries == nil then return {} end
  if #entries < want or #entries >= count then return entries end
  local bytes = 0
  for _, entry in ipairs(entries) do bytes = bytes + entryBytes(entry) end
  while bytes < maxBytes do
    local left = count - #entries
    want = math.min(left, math.floor((maxBytes - bytes) / math.max(bytes / #entries, 1)))
    if want <= 0 then break end
    local batch = read(want)
    if batch == nil or #batch == 0 then break end
    for _, entry in ipairs(batch) do
      entries[#entries + 1] = entry
      bytes = bytes + entryBytes(entry)
    end
    if #batch < want or #entries >= count then break end
  end
  return entries
end

-- How many entries of `averageBytes` fit `maxBytes` (0: unknown size, read one to learn it).
local function firstReadCount(count, maxBytes, averageBytes)
  if averageBytes <= 0 then return 1 end
  return math.max(1, math.min(count, math.floor(maxBytes / averageBytes)))
end

-- The entries as one string: each as its ID, the number of field/value strings, then those
-- strings; every string is a 4-byte big-endian length followed by its bytes, the count a 4-byte
-- big-endian integer. One string is far cheaper to return and to parse than nested arrays.
-- An entry whose fields are gone (trimmed while pending) is packed with zero fields.
local function packEntries(entries)
  local pack = struct.pack
  -- Length prefixes repeat (every message has the same field names and similar sizes): each is
  -- made once per call instead of once per string.
  local prefixes = {}
  local parts, last = {}, 0
  for _, entry in ipairs(entries) do
    local id, fields = entry[1], entry[2] or {}
    local idLength, count = #id, #fields
    local prefix = prefixes[idLength]
    if not prefix then prefix = pack('>I4', idLength) prefixes[idLength] = prefix end
    local countPrefix = prefixes[count]
    if not countPrefix then countPrefix = pack('>I4', count) prefixes[count] = countPrefix end
    parts[last + 1], parts[last + 2], parts[last + 3] = prefix, id, countPrefix
    last = last + 3
    for f = 1, count do
      local field = fields[f]
      local length = #field
      prefix = prefixes[length]
      if not prefix then prefix = pack('>I4', length) prefixes[length] = prefix end
      parts[last + 1], parts[last + 2] = prefix, field
      last = last + 2
    end
  end
  return table.concat(parts)
end
