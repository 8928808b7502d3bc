--[[
  The worker starts a run: queued/claimed -> running (with startedAt = ARGV[1]).
  KEYS[1] run hash. Returns 0 when the run was superseded, cancelled or taken meanwhile.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'queued' or state == 'claimed' then
  redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[1])
  return 1
end
return 0
