-- KEYS outbox lock; ARGV token. Gives up the lease if the token still holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
