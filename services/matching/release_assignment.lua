-- A case ended: its worker's caseload goes down once, however often this runs (1 the first time,
-- else 0). Run before the assignment, it keeps the assignment from counting at all. The
-- referral's recorded match is kept for a while after.
-- The caller read the assignment first, to pass the worker's caseload in KEYS: 'moved' when the
-- assignment is no longer what it read (it reads again).
-- KEYS: 1 the referral's assignment, 2 its released mark, 3 its recorded match, 4 the caseload of
--       the worker the caller read (any key when it read none).
-- ARGV: 1 '1' when the caller read an assignment, 2 the worker it read, 3 the seconds the
--       recorded match is kept.
local worker = redis.call('GET', KEYS[1])
if (worker ~= false) ~= (ARGV[1] == '1') or (worker and worker ~= ARGV[2]) then return 'moved' end
if redis.call('SETNX', KEYS[2], '1') == 0 then return 0 end
if worker and worker ~= '' then
  if tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then redis.call('DECR', KEYS[4]) end
end
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
