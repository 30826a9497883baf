-- KEYS[1] submission; ARGV owner, new state ('published' or 'released'). Once published, the
-- recorded event is not needed again (a resubmission is a duplicate): it is forgotten.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[2] == 'published' then
  redis.call('HSET', KEYS[1], 'state', 'published')
  redis.call('HDEL', KEYS[1], 'event')
else
  redis.call('HSET', KEYS[1], 'lease_until', 0)
end
return 1
