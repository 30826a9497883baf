-- Begins a clear of the directory cache unless it is complete and of this layout (then nil), or
-- joins the clear under way: returns the clear's name (a new generation), and removes the mark of
-- a complete cache. A new generation refuses every load begun before it (write_resource.lua,
-- mark_loaded.lua); begin_load.lua makes a generation the same way when there is none yet.
-- KEYS: 1 the loaded mark, 2 the clear under way, 3 the cache's generation.
-- ARGV: 1 this build's layout.
if redis.call('GET', KEYS[1]) == ARGV[1] then return false end
local clear = redis.call('GET', KEYS[2])
if not clear then
  -- "<count>:<server time>": new after a FLUSHALL too.
  local old = redis.call('GET', KEYS[3])
  local n = tonumber(string.match(old or '', '^(%d+):')) or 0
  local t = redis.call('TIME')
  clear = (n + 1) .. ':' .. t[1] .. string.format('%06d', t[2])
  redis.call('SET', KEYS[3], clear)
  redis.call('SET', KEYS[2], clear)
end
redis.call('DEL', KEYS[1])
return clear
