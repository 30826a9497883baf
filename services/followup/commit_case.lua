-- Commits one CaseChange (redis_case_store.cc builds the call): the version check, the case, its
-- tasks with their queues' open sets and feeds, its timers and its events into the outbox, all or
-- nothing.
-- KEYS[1] case, KEYS[2] timers, KEYS[3] outbox, then the keys of each operation in ARGV's order.
-- ARGV[1] expected version, ARGV[2] case bytes, ARGV[3] the timer whose firing this is ('' if
-- none), ARGV[4] feed length bound, then operations:
--   'C', timer id                                  cancel a timer; KEYS: timer
--   'A', timer id, due ms, timer bytes             add a timer; KEYS: timer
--   'T', task id, 'open'|'ended', created ms, task bytes, moved ('1' or '')
--        write a task; KEYS: task, open set, feed of its queue, then when it moved from another
--        queue: that queue's open set and feed
--   'O', topic, key, event bytes                   an event to publish (into KEYS[3])
--   'R', referral id, due ms                       the case has ended: it leaves Redis then
--                                                  (retire_cases.lua); KEYS: the retention set
-- Each task's id is also a field of the case ("t:" and the id), so the case's tasks can be removed
-- with it.
-- Replies {'ok', new version}, {'conflict', current version} or {'timer_gone', current version}.
local expected = tonumber(ARGV[1])
local cur = redis.call('HGET', KEYS[1], 'v')
local curv = 0
if cur then curv = tonumber(cur) end
if curv ~= expected then return {'conflict', tostring(curv)} end
local fired = ARGV[3]
if fired ~= '' and not redis.call('ZSCORE', KEYS[2], fired) then
  return {'timer_gone', tostring(curv)}
end
-- The case's own fields (its version, bytes and task ids) in one HSET, after the operations.
local case_fields = {'v', tostring(expected + 1), 'b', ARGV[2]}
local maxlen = ARGV[4]
local i = 5
local k = 4
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'T' then
    local id, status, score, bytes, moved = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
                                            ARGV[i + 5]
    local task, open, feed = KEYS[k], KEYS[k + 1], KEYS[k + 2]
    k = k + 3
    redis.call('SET', task, bytes)
    case_fields[#case_fields + 1] = 't:' .. id
    case_fields[#case_fields + 1] = ''
    if moved == '1' then
      redis.call('ZREM', KEYS[k], id)
      redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', maxlen, '*', 't', bytes)
      k = k + 2
    end
    if status == 'open' then
      redis.call('ZADD', open, score, id)
    else
      redis.call('ZREM', open, id)
    end
    redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 't', bytes)
    i = i + 6
  elseif op == 'C' then
    redis.call('ZREM', KEYS[2], ARGV[i + 1])
    redis.call('DEL', KEYS[k])
    k = k + 1
    i = i + 2
  elseif op == 'A' then
    redis.call('SET', KEYS[k], ARGV[i + 3])
    redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i + 1])
    k = k + 1
    i = i + 4
  elseif op == 'R' then
    redis.call('ZADD', KEYS[k], ARGV[i + 2], ARGV[i + 1])
    k = k + 1
    i = i + 3
  elseif op == 'O' then
    redis.call('XADD', KEYS[3], '*', 'topic', ARGV[i + 1], 'key', ARGV[i + 2],
               'value', ARGV[i + 3])
    i = i + 4
  else
    return redis.error_reply('unknown commit op ' .. op)
  end
end
redis.call('HSET', KEYS[1], unpack(case_fields))
return {'ok', tostring(expected + 1)}
