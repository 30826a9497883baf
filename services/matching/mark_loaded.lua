-- Marks the directory cache complete after the topic was read to its end under the load's
-- generation, unless the cache was cleared since that load began or a clear is under way (the
-- same refusals as write_resource.lua's).
-- KEYS: 1 the loaded mark, 2 the cache's generation, 3 the clear under way.
-- ARGV: 1 the load's generation, 2 this build's layout.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('STALEGENERATION the directory cache was cleared after this load of it began')
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  return redis.error_reply('CLEARING the directory cache is being cleared')
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
