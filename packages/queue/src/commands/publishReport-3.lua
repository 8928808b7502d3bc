--[[
  Records what a run wants the PR to show.
  KEYS: run report hash, PR comment hash, run record. ARGV: phase rank, body, has-comment flag,
  statuses JSON, forge, repo, pr, sha, runId, ttl. Returns the run report's new seq, or 0 when the
  publish came too late (the run is past that phase) and changed nothing.
]]
local phase = tonumber(ARGV[1])
if phase < tonumber(redis.call('HGET', KEYS[1], 'phase') or '-1') then return 0 end
local statuses = cjson.decode(redis.call('HGET', KEYS[1], 'statuses') or '{}')
for _, s in ipairs(cjson.decode(ARGV[4])) do statuses[s.context] = s end
redis.call('HSET', KEYS[1], 'phase', phase, 'forge', ARGV[5], 'repo', ARGV[6], 'pr', ARGV[7],
  'sha', ARGV[8], 'pull', KEYS[2], 'statuses', cjson.encode(statuses))
if ARGV[3] == '1' then
  local created = tonumber(redis.call('HGET', KEYS[3], 'createdAt') or '0')
  local current = redis.call('HMGET', KEYS[2], 'created', 'phase')
  local cc, cp = tonumber(current[1] or '-1'), tonumber(current[2] or '-1')
  if created > cc or (created == cc and phase >= cp) then
    redis.call('HSET', KEYS[2], 'created', created, 'phase', phase, 'body', ARGV[2], 'runId', ARGV[9],
      'repo', ARGV[6], 'pr', ARGV[7])
    redis.call('EXPIRE', KEYS[2], ARGV[10])
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], ARGV[10])
return seq
