-- KEYS status, legacy events, status expiry index; ARGV event id, state, change bytes, updated ms,
-- expires ms (the service's clock now plus the status retention), referral id (the index's
-- member), then attribute name/value pairs
-- (empty values are skipped; 'owner', the link worker who has the case, is kept only from an
-- event no older than the one that set it, with its time in 'owner_ms'; a connection is a field
-- 'c:' and its resource id). CombineStates in status_projection.cc is the same rule: terminal
-- states (7 closed, 8 withdrawn, 9 rejected) stick, otherwise the further wins.
-- The event's change is a field of the same hash ("h:" and its event id), so one HSET records
-- everything: every write is a command in the append-only file, and this runs for each of a
-- referral's lifecycle events. An event already there changes nothing. Only a view in a final
-- state expires (expire_statuses.lua removes it when due), the retention counted from the change
-- that made it final: an open referral may sit unchanged for months (connected, its case idle)
-- and must still show its closure when that comes. A view not final is taken out of the index
-- (an entry the former rule, which indexed every view, gave it). A referral whose view has expired
-- holds only its tombstone ("gone"): an event for it then (a topic read again) is not recorded, as
-- a view of only the late events would be a wrong history; the topics keep every event.
-- Everything read of the view is read in one HMGET: this runs for every lifecycle event of every
-- referral, and each command a script runs is work for Redis.
local seen = 'h:' .. ARGV[1]
local view = redis.call('HMGET', KEYS[1], 'gone', seen, 'state', 'updated_ms', 'owner_ms')
if view[1] or view[2] then return 0 end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
local cur = tonumber(view[3] or '0')
local new = tonumber(ARGV[2])
local nxt = cur
if cur < 7 then
  if new >= 7 or new > cur then nxt = new end
end
-- The latest change's time: an older event read after a newer one does not take it back.
local updated = ARGV[4]
local prev_updated = view[4]
if prev_updated and tonumber(prev_updated) > tonumber(ARGV[4]) then updated = prev_updated end
local fields = {seen, ARGV[3], 'state', nxt, 'updated_ms', updated}
for i = 7, #ARGV, 2 do
  if ARGV[i + 1] ~= '' then
    if ARGV[i] == 'owner' then
      -- Who has the case: the latest event's (by its time), whatever order events arrive in.
      local owner_ms = tonumber(view[5] or '-1')
      if tonumber(ARGV[4]) >= owner_ms then
        fields[#fields + 1] = 'owner'
        fields[#fields + 1] = ARGV[i + 1]
        fields[#fields + 1] = 'owner_ms'
        fields[#fields + 1] = ARGV[4]
      end
    else
      fields[#fields + 1] = ARGV[i]
      fields[#fields + 1] = ARGV[i + 1]
    end
  end
end
redis.call('HSET', KEYS[1], unpack(fields))
if nxt < 7 then
  redis.call('ZREM', KEYS[3], ARGV[6])
elseif cur < 7 then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
else
  redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[6])
end
return 1
