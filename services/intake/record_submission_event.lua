-- KEYS[1] submission; ARGV referral id, serialized event. The first event recorded for a
-- submission is the only one ever published for it. Replies {'recorded'}, {'earlier', event},
-- {'published'} (nothing to send), or {'gone'} (not, or no longer, under that referral id).
local h = redis.call('HMGET', KEYS[1], 'rid', 'state', 'event')
if h[1] ~= ARGV[1] then return {'gone'} end
if h[2] == 'published' then return {'published'} end
if h[3] then return {'earlier', h[3]} end
redis.call('HSET', KEYS[1], 'event', ARGV[2])
return {'recorded'}
