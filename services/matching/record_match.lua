-- Records a referral's match once (DirectoryCache::RecordMatches): its events, its assignment and
-- one more case on the chosen worker's caseload, in one step. The choice was made in C++
-- (assignment.cc) on what the match read returned; it is recorded only while that still stands:
-- the roster at the stamp it was read at, the worker's caseload as read, and the worker under
-- their maximum. Else nothing is written and the caller reads and decides again ('stale').
-- KEYS: 1 the referral's match record, 2 its assignment, 3 its released mark, 4 the roster stamp,
--       5 the chosen worker's caseload.
-- ARGV: 1 the roster stamp the decision read, 2 the worker ('' for a team queue), 3 the caseload
--       the decision read, 4 the worker's cap (0: none), 5 '1' when an earlier assignment stands,
--       6 the seconds an ended case's record is kept, 7.. the events.
local recorded = redis.call('LRANGE', KEYS[1], 0, -1)
if #recorded > 0 then return {'earlier', recorded} end
local assigned = redis.call('GET', KEYS[2])
local released = redis.call('EXISTS', KEYS[3]) == 1
if ARGV[5] == '1' then
  if not assigned then return {'stale'} end
else
  -- Assigned by another version meanwhile, or decided on a roster or caseload that moved on: the
  -- caller reads again. A worker at their maximum is never given one more case.
  if assigned or (redis.call('GET', KEYS[4]) or '') ~= ARGV[1] then return {'stale'} end
  -- A case already ended (its end overtook the match) takes no place in a caseload.
  if ARGV[2] ~= '' and not released then
    local load = tonumber(redis.call('GET', KEYS[5]) or '0') or 0
    local cap = tonumber(ARGV[4])
    if load ~= tonumber(ARGV[3]) or (cap > 0 and load >= cap) then return {'stale'} end
    redis.call('INCR', KEYS[5])
  end
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 7))
if released then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
return {'recorded'}
