-- KEYS[1] the queue's feed, KEYS[2] its open set; ARGV[1] the task key prefix (RedisKeys::Task of
-- ''). Replies {the feed's last entry id (the resume token, '0-0' when empty), open tasks' bytes}
-- in one step, so that the feed from the token on holds every change after the snapshot.
-- The one script that names keys itself: the tasks are those the open set holds when it runs,
-- which no caller can know beforehand without losing that atomicity.
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local out = {'0-0'}
if #last > 0 then out[1] = last[1][1] end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local b = redis.call('GET', ARGV[1] .. id)
  if b then table.insert(out, b) end
end
return out
