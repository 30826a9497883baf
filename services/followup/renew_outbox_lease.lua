-- KEYS outbox lock; ARGV token, lease ms. Renews the lease for the token that holds it; 0 for any
-- other.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
