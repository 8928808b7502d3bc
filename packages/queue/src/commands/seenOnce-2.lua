--[[
  Remembers a delivery and a comment together: 1 only when both are new (a comment seen before
  under another delivery is not new, and is not re-remembered).
  KEYS[1] delivery key   KEYS[2] comment key   ARGV[1] ttl (s).
]]
local ttl = tonumber(ARGV[1])
local newDelivery = redis.call('SET', KEYS[1], '1', 'EX', ttl, 'NX')
local newComment = redis.call('SET', KEYS[2], '1', 'EX', ttl, 'NX')
if newDelivery and newComment then return 1 end
if newComment then redis.call('DEL', KEYS[2]) end
return 0
