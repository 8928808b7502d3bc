--[[
  `!testme cancel`: stops the PR's live run (claimed, queued or running) atomically, the way a
  supersede does: `supersededBy` carries the cancel marker (the worker stops a run that has it),
  `cancelledBy` who asked. A run not started yet ends here as cancelled; a running one is left for
  its worker to stop and tear down.
  KEYS[1] PR key   ARGV: run key prefix, marker (e.g. "cancelled-by:alice"), login, now (ms).
  Returns {runId, state before}; {runId, 'already', login} when that run was cancelled already (a
  retried command finds its own work done); {} when the PR has nothing live to cancel.
]]
local pullKey = KEYS[1]
local runPrefix, marker, login, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local runId = redis.call('HGET', pullKey, 'runId')
if not runId then return {} end
local runKey = runPrefix .. runId
local fields = redis.call('HMGET', runKey, 'state', 'bullKey', 'cancelledBy', 'supersededBy')
local state, bullKey = fields[1], fields[2]
if fields[3] then return {runId, 'already', fields[3]} end
if fields[4] then return {} end
if state ~= 'claimed' and state ~= 'queued' and state ~= 'running' then return {} end
if state ~= 'claimed' and bullKey and
  (redis.call('EXISTS', bullKey) == 0 or redis.call('HEXISTS', bullKey, 'finishedOn') == 1) then
  return {}
end
redis.call('HSET', runKey, 'supersededBy', marker, 'cancelledBy', login)
if state ~= 'running' then redis.call('HSET', runKey, 'state', 'cancelled', 'finishedAt', now) end
return {runId, state}
