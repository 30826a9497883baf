-- KEYS outbox lock, outbox; ARGV token, then the ids of the entries sent. Deletes sent entries
-- only while the token holds the lease; -1 when it does not (the entries stay for the holder).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if #ARGV < 2 then return 0 end
return redis.call('XDEL', KEYS[2], unpack(ARGV, 2))
