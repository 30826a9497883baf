-- Everything matching a referral reads, in one script so it is one round trip although the geo
-- searches start from a point read in it: where the person is, each need's candidates near there
-- and its best remote ones, the referring practice's team with their caseloads, the roster stamp
-- the team is read at, and an assignment recorded without a match record (by a version of
-- matching before match records). For a referral matched before, only its record.
-- No choice is made here: the link worker is chosen in C++ (assignment.cc), and record_match.lua
-- records that choice only while what it was decided on still stands.
-- KEYS: 1 the postcode's record, 2 the district's, 3 the practice's network, 4 the referral's
--       assignment, 5 its recorded match, 6 the roster stamp, then per need its geo and its remote
--       index.
-- ARGV: 1-3 the key prefixes of a network's workers, a worker's record and a worker's caseload
--       (the team's keys follow from what the script reads: see directory_cache.h), 4-7 the
--       location record's fields, then per need its radius in km, how many nearby and how many
--       remote.
local recorded = redis.call('LRANGE', KEYS[5], 0, -1)
if #recorded > 0 then return {'recorded', recorded} end
local needs = (#KEYS - 6) / 2
local fields = {ARGV[4], ARGV[5], ARGV[6], ARGV[7]}
local postcode = redis.call('HMGET', KEYS[1], unpack(fields))
local district = redis.call('HMGET', KEYS[2], unpack(fields))
local lat, lon
for _, record in ipairs({postcode, district}) do
  if tonumber(record[1]) and tonumber(record[2]) then
    lat, lon = tonumber(record[1]), tonumber(record[2])
    break
  end
end
-- The point as the direct search formats it, so both find the same. Each index's members come
-- back joined in one string: turning hundreds of replies into Lua values and back costs more than
-- the search.
if lat then lat, lon = string.format('%.7f', lat), string.format('%.7f', lon) end
local out = {postcode, district}
for n = 0, needs - 1 do
  local a = 8 + 3 * n
  if lat then
    table.insert(out, table.concat(redis.call('GEOSEARCH', KEYS[7 + 2 * n], 'FROMLONLAT', lon,
                                              lat, 'BYRADIUS', ARGV[a], 'km', 'ASC', 'COUNT',
                                              ARGV[a + 1]), ' '))
  else
    table.insert(out, '')
  end
  table.insert(out, table.concat(redis.call('ZREVRANGE', KEYS[8 + 2 * n], 0,
                                            tonumber(ARGV[a + 2]) - 1), ' '))
end
-- The practice's network, its link workers and their caseloads: the network, then per worker
-- its record and caseload. Two MGETs, not two GETs per worker: each call from a script has a
-- fixed cost.
local team = {}
local network = redis.call('GET', KEYS[3])
if network then
  team = {network}
  local ids = redis.call('SMEMBERS', ARGV[1] .. network)
  if #ids > 0 then
    local records, caseloads = {}, {}
    for i, id in ipairs(ids) do
      records[i] = ARGV[2] .. id
      caseloads[i] = ARGV[3] .. id
    end
    records = redis.call('MGET', unpack(records))
    caseloads = redis.call('MGET', unpack(caseloads))
    for i = 1, #ids do
      table.insert(team, records[i] or '')
      table.insert(team, caseloads[i] or '0')
    end
  end
end
table.insert(out, team)
table.insert(out, {redis.call('GET', KEYS[6]) or '', redis.call('GET', KEYS[4]) or false})
return out
