-- Ends the clear named ARGV[1] unless another instance did: nothing was written since it began,
-- so going through every key left none.
-- KEYS: 1 the clear under way.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
