-- KEYS status expiry index; ARGV now ms (the service's clock), tombstone ms (how long a tombstone
-- is kept), batch size, then the key prefixes of a status, a legacy history and legacy events.
-- Each referral id due in the index (only views in a final state are, apply_status.lua): a status
-- view is replaced by its tombstone {gone_ms, ods} (gone_ms: when it expired; ods: what
-- GetReferral needs to say "no longer held" only to the referrer who may ask), kept for the
-- tombstone time after it expired; a tombstone due is removed with its index entry, and the id is
-- then unknown.
-- The keys are made here from the ids the index holds, not passed in KEYS: which ids are due is
-- only known inside the script (a single Redis, as everywhere in Signpost; not Redis Cluster).
-- Replies the number of ids handled; fewer than the batch size means none is left due.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
                      tonumber(ARGV[3]))
for i = 1, #due, 2 do
  local id, expired = due[i], tonumber(due[i + 1])
  local key = ARGV[4] .. id
  if redis.call('HEXISTS', key, 'gone') == 1 then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(redis.call('HGET', key, 'state') or '0') < 7 then
    -- Not final (indexed by the former rule, before IndexOlderViews took it out): never expires.
    redis.call('ZREM', KEYS[1], id)
  else
    local ods = redis.call('HGET', key, 'ods') or ''
    redis.call('DEL', key, ARGV[5] .. id, ARGV[6] .. id)
    redis.call('HSET', key, 'gone', expired, 'ods', ods)
    redis.call('ZADD', KEYS[1], expired + tonumber(ARGV[2]), id)
  end
end
return #due / 2
