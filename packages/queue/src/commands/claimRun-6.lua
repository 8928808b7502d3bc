--[[
  Claims a run request atomically (a script runs alone in Redis, so concurrent deliveries can
  never both win):
    1. a seen delivery id or comment id -> the run it led to (seen-once keys, TTL >= 7 days);
    2. a live run (claimed/queued/running) for the same (repo, PR, sha) -> coalesce onto it;
    3. otherwise a new run: a live run for an older sha of the PR is marked superseded
       (a queued one at once; a running one is left for its worker to cancel).
  A run counts as finished when its BullMQ job hash is gone or has `finishedOn`.

  KEYS[1] delivery seen-once key   KEYS[2] comment seen-once key   KEYS[3] PR key
  KEYS[4] runs sorted set          KEYS[5] run sequence   KEYS[6] the PR's runs sorted set
  ARGV: runBase, sha, ttl, job JSON, now (ms), run key prefix, BullMQ queue key prefix
  Returns {outcome, runId, superseded, supersededState, runState}.
]]
local deliveryKey, commentKey, pullKey, runsKey, seqKey, pullRunsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local runBase, sha, ttl, job, now, runPrefix, bullQueuePrefix =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7]

local function isLive(runId)
  local fields = redis.call('HMGET', runPrefix .. runId, 'state', 'bullKey', 'cancelledBy')
  local state, bullKey = fields[1], fields[2]
  -- A cancelled run still being torn down by its worker covers nothing any more.
  if fields[3] then return false end
  if state == 'claimed' then return true end
  if state ~= 'queued' and state ~= 'running' then return false end
  if bullKey and (redis.call('EXISTS', bullKey) == 0 or redis.call('HEXISTS', bullKey, 'finishedOn') == 1) then
    return false
  end
  return true
end

local function remember(runId)
  redis.call('SET', deliveryKey, runId, 'EX', ttl)
  redis.call('SET', commentKey, runId, 'EX', ttl)
end

local prior = redis.call('GET', deliveryKey)
if prior then return {'duplicate-delivery', prior, '', '', redis.call('HGET', runPrefix .. prior, 'state') or ''} end
prior = redis.call('GET', commentKey)
if prior then
  redis.call('SET', deliveryKey, prior, 'EX', ttl)
  return {'duplicate-comment', prior, '', '', redis.call('HGET', runPrefix .. prior, 'state') or ''}
end

local current = redis.call('HMGET', pullKey, 'runId', 'sha')
local currentRun, currentSha = current[1], current[2]
local live = currentRun and isLive(currentRun)
if live and currentSha == sha then
  remember(currentRun)
  return {'coalesced', currentRun, '', '', redis.call('HGET', runPrefix .. currentRun, 'state') or ''}
end

local runId = runBase .. '-' .. redis.call('INCR', seqKey)
local superseded, supersededState = '', ''
if live then
  superseded = currentRun
  supersededState = redis.call('HGET', runPrefix .. currentRun, 'state')
  redis.call('HSET', runPrefix .. currentRun, 'supersededBy', runId)
  if supersededState ~= 'running' then
    redis.call('HSET', runPrefix .. currentRun, 'state', 'superseded', 'finishedAt', now)
  end
end
redis.call('HSET', runPrefix .. runId, 'state', 'claimed', 'job', job, 'createdAt', now,
  'bullKey', bullQueuePrefix .. runId)
redis.call('EXPIRE', runPrefix .. runId, ttl * 5)
redis.call('HSET', pullKey, 'runId', runId, 'sha', sha)
redis.call('EXPIRE', pullKey, ttl * 5)
redis.call('ZADD', runsKey, now, runId)
redis.call('ZADD', pullRunsKey, now, runId)
redis.call('EXPIRE', pullRunsKey, ttl * 5)
remember(runId)
return {'enqueued', runId, superseded, supersededState, 'claimed'}
