-- Writes a resource and its index entries in one atomic step, or with empty record bytes removes
-- them; or, for a referral, takes a place there: the record as the caller made it from the
-- version it read, written together with the record that the referral holds a place, so a call
-- repeated after any failure takes no second place. One script for both, since taking a place is
-- a write with two checks before it.
--
-- Writes reach the cache twice (directly from the directory service, and again from the topic),
-- possibly from several instances: a version older than the cached one changes nothing. Nothing
-- is written while the cache is being cleared, nor for a load begun before the last clear: the
-- refusals are error replies the caller reads (CLEARING: try again shortly; STALEGENERATION: read
-- the topic again from its beginning).
--
-- KEYS: 1 the record, 2 its index entries (a set), 3 its version, 4 its stamp, 5 the resource's
--       reservations (a set), 6 the cache's generation, 7 the clear under way, 8 the stamp counter,
--       9 the stamp epoch, 10.. every index key an entry may name (the old entries' and the new;
--       an old entry's key not among them is refused before anything is written, and the caller
--       runs this again with the keys the entries name).
-- ARGV: 1 the load's generation ('' outside a load), 2 the referral taking a place ('' for a
--       write), 3 the stamp of the record the new one was made from (taking a place), 4 and 5 the
--       version's seconds and nanos ('' for none), 6 the record's bytes ('' to remove), then the
--       index entries to the end: g <key> <lon> <lat> <member> | r <key> <score> <member>.
-- Returns the new stamp when it wrote the record; 'earlier' when the referral held a place there
-- already, 'stale' when the record changed since the caller read it (taking a place); else a
-- number (0: an older version, nothing written; 1: removed).
local taking = ARGV[2] ~= ''
if taking and redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 1 then return 'earlier' end

if ARGV[1] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[1] then
  return redis.error_reply('STALEGENERATION the directory cache was cleared after this load of it began')
end
if redis.call('EXISTS', KEYS[7]) == 1 then
  return redis.error_reply('CLEARING the directory cache is being cleared')
end

-- Whether the version in ARGV is older than the cached one. A version that cannot be read is
-- replaced.
local function older()
  local v = redis.call('GET', KEYS[3])
  if not v or ARGV[4] == '' then return false end
  local s, n = string.match(v, '^(%-?%d+) (%d+)$')
  s = tonumber(s)
  n = tonumber(n)
  if not s or not n then return false end
  local ns, nn = tonumber(ARGV[4]), tonumber(ARGV[5])
  return s > ns or (s == ns and n > nn)
end
if taking and ((redis.call('GET', KEYS[4]) or '') ~= ARGV[3] or older()) then return 'stale' end
if older() then return 0 end

-- Every index key touched is one of KEYS: checked before anything is written (a script stopped
-- by an error keeps what it wrote so far).
local declared = {}
for i = 10, #KEYS do declared[KEYS[i]] = true end
local old = {}
for _, e in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key, member = string.match(e, '^%a\t([^\t]+)\t(.+)$')
  if key then
    if not declared[key] then return redis.error_reply('index key ' .. key .. ' not in KEYS') end
    table.insert(old, {key, member})
  end
end
local i = 7
while i <= #ARGV do
  if not declared[ARGV[i + 1]] then
    return redis.error_reply('index key ' .. ARGV[i + 1] .. ' not in KEYS')
  end
  i = i + (ARGV[i] == 'g' and 5 or 4)
end

if taking then redis.call('SADD', KEYS[5], ARGV[2]) end
for _, e in ipairs(old) do redis.call('ZREM', e[1], e[2]) end
redis.call('DEL', KEYS[2])
if ARGV[6] == '' then
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
  return 1
end
redis.call('SET', KEYS[1], ARGV[6])
-- A stamp per write, unique across cache rebuilds: "<epoch>.<count>", where the epoch is the
-- server's time when the counter started. A clear may remove the counter or the epoch without the
-- other: either way the epoch is new. The stamp ends every index member ("<id>|<location>|<stamp>",
-- "<id>|<stamp>"), so a search tells which record version each hit is and in-process copies know
-- whether they are current.
local n = redis.call('INCR', KEYS[8])
local epoch = redis.call('GET', KEYS[9])
if n == 1 or not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', t[2])
  redis.call('SET', KEYS[9], epoch)
end
local stamp = epoch .. '.' .. n
redis.call('SET', KEYS[4], stamp)
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3], ARGV[4] .. ' ' .. ARGV[5])
else
  redis.call('DEL', KEYS[3])
end
i = 7
while i <= #ARGV do
  if ARGV[i] == 'g' then
    local member = ARGV[i + 4] .. '|' .. stamp
    redis.call('GEOADD', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], member)
    redis.call('SADD', KEYS[2], 'g\t' .. ARGV[i + 1] .. '\t' .. member)
    i = i + 5
  else
    local member = ARGV[i + 3] .. '|' .. stamp
    redis.call('ZADD', ARGV[i + 1], ARGV[i + 2], member)
    redis.call('SADD', KEYS[2], 'r\t' .. ARGV[i + 1] .. '\t' .. member)
    i = i + 4
  end
end
return stamp
