--[[
  Deletes a lock only if it is still ours (it may have expired and been taken meanwhile).
  KEYS[1] lock key. ARGV[1] token.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
