--[[
  A job's position in its BullMQ queue. BullMQ pushes new jobs on the left of `<queue>:wait` and
  workers take them from the right, so the position is the distance from the right end. Done in
  Redis because fetching every waiting job per acknowledgement is quadratic under load.
  KEYS[1] <queue>:wait   KEYS[2] <queue>:active   ARGV[1] job id.
  Returns 1.. while waiting, 0 while running, -1 when unknown.
]]
local index = redis.call('LPOS', KEYS[1], ARGV[1])
if index then return redis.call('LLEN', KEYS[1]) - index end
if redis.call('LPOS', KEYS[2], ARGV[1]) then return 0 end
return -1
