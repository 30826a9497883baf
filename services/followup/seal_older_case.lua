-- A case an older follow-up wrote with the person's details in clear, written again with them
-- sealed (older_case_sealing.cc) only while it is at the version that was read: an action or a
-- withdrawal committed since wrote its own record (sealed by SealingCaseStore, or purged), and a
-- record read before it must not bring back what it purged. The version stays: nothing about the
-- case changed. KEYS[1] case; ARGV[1] the version read, ARGV[2] the case's bytes, sealed.
-- Replies 1 when written, 0 when the case changed (or left) meanwhile.
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'b', ARGV[2])
return 1
