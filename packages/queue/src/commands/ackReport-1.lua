--[[
  Acknowledges what was posted: raises the run report's postedSeq to ARGV[1], never lowers it (a
  publish that raced in keeps its own delivery pending).
  KEYS[1] run report hash.
]]
if tonumber(redis.call('HGET', KEYS[1], 'postedSeq') or '0') < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'postedSeq', ARGV[1])
end
return 1
