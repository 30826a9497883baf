-- For cases written before ended cases left Redis: ARGV the key prefixes of a case and of a task,
-- then task ids (each "<referral id>/..."). Names each task in its case's hash ("t:" and its id),
-- as commit_case.lua now does, so the task leaves with the case. The keys are made here from the
-- ids (a single Redis, as everywhere in Signpost; not Redis Cluster).
for i = 3, #ARGV do
  local id = ARGV[i]
  local rid = string.match(id, '^(.-)/')
  if rid then
    local case = ARGV[1] .. rid
    if redis.call('EXISTS', case) == 1 then
      redis.call('HSET', case, 't:' .. id, '')
    end
  end
end
return 0
