-- The generation a full read of the directory topic writes under, {'generation', <it>}; or the
-- clear under way, {'clearing', <its name>}, for the caller to finish first. With no generation
-- yet (a new server, a FLUSHALL) it makes one as begin_clear.lua does: "<count>:<server time>".
-- KEYS: 1 the clear under way, 2 the cache's generation.
local clear = redis.call('GET', KEYS[1])
if clear then return {'clearing', clear} end
local generation = redis.call('GET', KEYS[2])
if not generation then
  local t = redis.call('TIME')
  generation = '1:' .. t[1] .. string.format('%06d', t[2])
  redis.call('SET', KEYS[2], generation)
end
return {'generation', generation}
