--[[
  Sets a run's state to ARGV[2] only if it is still ARGV[1] (no lost updates against the worker).
  KEYS[1] run hash. Returns 1 when it moved, 0 otherwise.
]]
if redis.call('HGET', KEYS[1], 'state') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', ARGV[2])
  return 1
end
return 0
