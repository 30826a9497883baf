-- A case moved to another worker: one down for the old, one up for the new, once (1 when
-- something moved, else 0). Nothing for a released case.
-- The caller read the assignment first, to pass the old worker's caseload in KEYS: 'moved' when
-- the assignment is no longer what it read (it reads again).
-- KEYS: 1 the referral's assignment, 2 its released mark, 3 the caseload of the worker the caller
--       read (any key when it read none), 4 the new worker's caseload.
-- ARGV: 1 '1' when the caller read an assignment, 2 the worker it read, 3 the new worker.
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local worker = redis.call('GET', KEYS[1])
if (worker ~= false) ~= (ARGV[1] == '1') or (worker and worker ~= ARGV[2]) then return 'moved' end
if worker == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
if worker and worker ~= '' then
  if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
end
redis.call('INCR', KEYS[4])
return 1
