-- KEYS[1] timers, then the key of each timer named in ARGV; ARGV now ms, lease until ms, then the
-- ids of timers that were due (read just before). Claims each that is still due (not claimed by
-- another instance meanwhile) by moving its due time to the end of the lease, so that it fires
-- again only if this instance does not finish it; a timer whose record is gone is dropped.
-- Replies the claimed timers' bytes.
local now = tonumber(ARGV[1])
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local due = redis.call('ZSCORE', KEYS[1], id)
  if due and tonumber(due) <= now then
    local b = redis.call('GET', KEYS[i - 1])
    if b then
      redis.call('ZADD', KEYS[1], ARGV[2], id)
      table.insert(out, b)
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return out
