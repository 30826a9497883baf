-- Names a network as the one serving each of its practices, then moves the roster's stamp (as
-- put_link_worker.lua does; its comment says why the stamp is made so).
-- KEYS: 1 the roster stamp's counter, 2 the roster stamp, 3.. each practice's network.
-- ARGV: 1 the network's id.
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[1]) end
local n = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
redis.call('SET', KEYS[2], t[1] .. string.format('%06d', t[2]) .. '.' .. n)
