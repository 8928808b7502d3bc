--[[
  Takes one accepted command in, once: remembers its delivery and its comment together and, only
  when both are new, appends the command to the intake's inbox stream, all in one atomic step (the
  webhook's whole Redis work). A comment seen before under another delivery is not new, and is not
  re-remembered. Returns 1 when the command was taken in, 0 when it had been seen before.
  KEYS[1] delivery key   KEYS[2] comment key   KEYS[3] inbox stream
  ARGV[1] ttl (s)   ARGV[2] intake id   ARGV[3] the command (JSON)
]]
local ttl = tonumber(ARGV[1])
local newDelivery = redis.call('SET', KEYS[1], '1', 'EX', ttl, 'NX')
local newComment = redis.call('SET', KEYS[2], '1', 'EX', ttl, 'NX')
if newDelivery and newComment then
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[2], 'item', ARGV[3])
  return 1
end
if newComment then redis.call('DEL', KEYS[2]) end
return 0
