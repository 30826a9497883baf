-- KEYS retention set; ARGV now ms (the service's clock), tombstone ms, batch size, then the key
-- prefixes of a case and of a task. Each referral id due in the set: an ended case still in Redis
-- is removed with its tasks (the case's "t:" fields name them; its timers were cancelled and its
-- tasks left their open sets when it ended, and the queues' feeds are bounded streams), and its
-- entry stays as the tombstone until the tombstone time has passed; a tombstone due is removed.
-- The keys are made here from the ids the set holds: which ids are due is only known inside the
-- script (a single Redis, as everywhere in Signpost; not Redis Cluster). Replies the number of
-- ids handled; fewer than the batch size means none is left due.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
                      tonumber(ARGV[3]))
for i = 1, #due, 2 do
  local id, removed = due[i], tonumber(due[i + 1])
  local case = ARGV[4] .. id
  if redis.call('EXISTS', case) == 1 then
    for _, field in ipairs(redis.call('HKEYS', case)) do
      if string.sub(field, 1, 2) == 't:' then
        redis.call('DEL', ARGV[5] .. string.sub(field, 3))
      end
    end
    redis.call('DEL', case)
    redis.call('ZADD', KEYS[1], removed + tonumber(ARGV[2]), id)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return #due / 2
