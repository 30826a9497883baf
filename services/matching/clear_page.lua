-- Removes a page of the directory cache's keys, the fence's own excepted, while the clear named
-- ARGV[1] is still under way; -1 when it is not (another instance went through every key: nothing
-- is left to do, and loads may have begun). Returns how many keys went.
-- KEYS: 1 the clear under way, 2 the cache's generation, 3.. the page.
-- ARGV: 1 the clear's name.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local removed = 0
for i = 3, #KEYS do
  if KEYS[i] ~= KEYS[1] and KEYS[i] ~= KEYS[2] then
    removed = removed + redis.call('UNLINK', KEYS[i])
  end
end
return removed
