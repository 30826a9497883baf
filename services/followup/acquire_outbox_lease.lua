-- KEYS outbox lock, outbox epoch; ARGV instance, lease ms. Takes the lease when nobody holds it,
-- under a new fencing token "<instance>#<n>" (n grows with every takeover, so a token names one
-- holding, not one instance). {1, token} when taken, {0, holder} when someone holds it.
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder} end
local token = ARGV[1] .. '#' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return {1, token}
