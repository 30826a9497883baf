-- KEYS[1] submission; ARGV fingerprint, new referral id, owner, now ms, lease ms, retention s,
-- the received event proposed under the new referral id (serialized; recorded with a new claim, so
-- that a first attempt takes the submission and records what it will send in one step), then the
-- earlier fingerprints of the same content (none or several). Replies {kind, referral id, lease
-- until ms, event, 'new' or ''}: 'new' when the submission was seen first now (the proposed
-- referral id and event recorded); a claim taken over from an earlier attempt carries the event
-- that attempt recorded, if any.
local h = redis.call('HMGET', KEYS[1], 'fp', 'rid', 'state', 'lease_until', 'event')
local now = tonumber(ARGV[4])
if not h[1] then
  if ARGV[7] ~= '' then
    redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'rid', ARGV[2], 'state', 'pending',
               'owner', ARGV[3], 'lease_until', now + tonumber(ARGV[5]), 'event', ARGV[7])
  else
    redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'rid', ARGV[2], 'state', 'pending',
               'owner', ARGV[3], 'lease_until', now + tonumber(ARGV[5]))
  end
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  return {'claimed', ARGV[2], '0', '', 'new'}
end
if h[1] ~= ARGV[1] then
  local earlier = false
  for i = 8, #ARGV do
    if ARGV[i] ~= '' and h[1] == ARGV[i] then earlier = true end
  end
  if not earlier then return {'conflict', h[2], '0', '', ''} end
  redis.call('HSET', KEYS[1], 'fp', ARGV[1])
end
if h[3] == 'published' then return {'duplicate', h[2], '0', '', ''} end
if tonumber(h[4]) <= now then
  redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'lease_until', now + tonumber(ARGV[5]))
  return {'claimed', h[2], '0', h[5] or '', ''}
end
return {'in_progress', h[2], tostring(h[4]), '', ''}
