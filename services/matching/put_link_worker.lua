-- Writes a link worker's record and adds them to their network's workers, then moves the roster's
-- stamp (as put_network.lua does: every change to the roster moves it, so a team remembered in
-- process is known to be current; the server's clock is part of it, so a counter that went back
-- after a restore or a failover, or a rebuilt cache, never gives an old stamp again).
-- KEYS: 1 the worker's record, 2 their network's workers (a set), 3 the roster stamp's counter,
--       4 the roster stamp.
-- ARGV: 1 the record's bytes, 2 the worker's id.
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
local n = redis.call('INCR', KEYS[3])
local t = redis.call('TIME')
redis.call('SET', KEYS[4], t[1] .. string.format('%06d', t[2]) .. '.' .. n)
