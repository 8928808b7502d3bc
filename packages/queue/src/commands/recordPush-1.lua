--[[
  Records a PR head push: keeps the latest receive time of each sha (a re-push of an old sha counts
  as new), drops the oldest past the bound and (re)sets the TTL, in one step.
  KEYS[1] the PR's pushes sorted set. ARGV: receivedAt (ms), sha, max pushes kept, ttl (s).
]]
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
