package limits

import "github.com/redis/go-redis/v9"

// The scripts keep one subject's state in five keys sharing the hash tag
// {subject}, so a Redis Cluster stores them in one slot:
//
//	KEYS[1] <p>:{s}:b  hash   u:<budget key> = settled usage, r:<budget key> = reserved
//	KEYS[2] <p>:{s}:l  zset   lease id -> expiry (unix ms); in-flight leases
//	KEYS[3] <p>:{s}:r  hash   lease id -> "R/U\nkey1\nkey2…" (reservation, usage last
//	                          reported, its budgets); "x" + record once expired and
//	                          charged U; "sync:<id>" reconcile markers
//	KEYS[4] <p>:{s}:t  zset   tombstone ids (expired records, sync markers) -> forget time
//	KEYS[5] <p>:{s}:w  hash   <flags>:<window ms>:{i,c,t} = fixed window bucket and its count;
//	                          sliding window (GCRA) theoretical arrival time
//
// Budget and lease keys have no TTL (budgets are lifetime; leases clean
// themselves up); the windows hash expires after twice its longest window of
// inactivity. Window arithmetic mirrors window.go operation for operation.

// luaSplit holds the helpers every script shares: split parses a lease
// record; clock reads the ARGV now override (tests) or else the server's
// TIME, so proxies with skewed clocks count windows on one clock.
const luaSplit = `
local function split(s)
  local out, pos = {}, 1
  while true do
    local i = string.find(s, '\n', pos, true)
    if not i then
      out[#out + 1] = string.sub(s, pos)
      return out
    end
    out[#out + 1] = string.sub(s, pos, i - 1)
    pos = i + 1
  end
end
-- head reads a record's first line: "reserved/report" (a bare number is
-- both, in records written before reports existed).
local function head(s)
  local i = string.find(s, '/', 1, true)
  if not i then
    local r = tonumber(s)
    return r, r
  end
  return tonumber(string.sub(s, 1, i - 1)), tonumber(string.sub(s, i + 1))
end
-- expire frees a lease and charges what it last reported.
local function expire(bk, rk, tk, lk, eid, now, tombttl)
  local rec = redis.call('HGET', rk, eid)
  if rec and string.sub(rec, 1, 1) ~= 'x' then
    local parts = split(rec)
    local r, u = head(parts[1])
    for j = 2, #parts do
      redis.call('HINCRBY', bk, 'r:' .. parts[j], -r)
      redis.call('HINCRBY', bk, 'u:' .. parts[j], u)
    end
    redis.call('HSET', rk, eid, 'x' .. rec)
    redis.call('ZADD', tk, now + tombttl, eid)
  end
  redis.call('ZREM', lk, eid)
end
-- Rate windows, operation for operation as window.go: a fixed window is
-- a bucket number i and its count c; a sliding window is GCRA, its
-- theoretical arrival time t (unix ms, fractional, stored with 17 digits
-- so it reads back exactly).
local function num(x) return string.format('%.17g', x) end
local function span(n, w, lim)
  local x = (n * w) / lim
  if n <= lim and x > w then x = w end
  return x
end
local function window(wk, f, w, now, fixed)
  local v = redis.call('HMGET', wk, f .. ':i', f .. ':c', f .. ':t')
  local i, c, t = tonumber(v[1]) or -1, tonumber(v[2]) or 0, tonumber(v[3]) or 0
  if fixed then
    local idx = math.floor(now / w)
    if i ~= idx then
      c = 0
      i = idx
    end
  end
  return i, c, t
end
local function wbase(t, now)
  if t > now then return t end
  return now
end
local function wfits(c, t, w, now, n, lim, fixed)
  if fixed then return c + n <= lim end
  return n <= lim and wbase(t, now) + span(n, w, lim) <= now + w
end
local function wremaining(c, t, w, now, lim, fixed)
  if fixed then
    if lim - c < 0 then return 0 end
    return lim - c
  end
  local b = wbase(t, now)
  local room = (now + w) - b
  if room <= 0 then return 0 end
  local r = math.floor((room * lim) / w)
  if r > lim then r = lim end
  while r > 0 and b + span(r, w, lim) > now + w do r = r - 1 end
  return r
end
local function wdrain(i, t, w, now, fixed)
  if fixed then return i * w + w end
  return math.ceil(wbase(t, now))
end
local function wretry(i, t, w, now, n, lim, fixed)
  if n > lim then return 0 end
  if fixed then return i * w + w - now end
  local wait = math.ceil(wbase(t, now) + span(n, w, lim) - (now + w))
  if wait < 1 then wait = 1 end
  return wait
end

local function clock(override)
  local now = tonumber(override)
  if now == 0 then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end
`

// acquireScript. ARGV: 1 lease id, 2 reserve, 3 lease ttl ms, 4 max parallel,
// 5 now ms (0 = TIME), 6 tombstone ttl ms, 7 floor, 8 worst, 9 report (what
// expiry bills before the first renewal; 0 = the grant), 10 budget count,
// then per budget key, limit; then window count, then per window flags,
// window ms, limit. Floor and worst are Request.amounts(): with floor > 0
// the grant is reserve while every limited counter can hold worst, else the
// least headroom (at least floor), exactly as Memory.admit decides.
//
// Returns {0, now, nb, total per budget…, nw, (bucket, remaining, drain ms)
// per window, grant, clamped 0/1} on success, {status, now, index, limit, remaining, retry ms, reset ms} on a
// refusal, {4, now, grant} when this lease id was already granted (a retried call).
var acquireScript = redis.NewScript(luaSplit + `
local bk, lk, rk, tk, wk = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
local res = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local maxp = tonumber(ARGV[4])
local now = clock(ARGV[5])
local tombttl = tonumber(ARGV[6])

local prior = redis.call('HGET', rk, id)
if prior then
  if string.sub(prior, 1, 1) == 'x' then prior = string.sub(prior, 2) end
  local r = head(split(prior)[1])
  return {4, now, r or 0}
end

-- Expired leases: free the slot, charge the last report (bounded work per call).
local gone = redis.call('ZRANGEBYSCORE', lk, '-inf', now, 'LIMIT', 0, 16)
for _, eid in ipairs(gone) do
  expire(bk, rk, tk, lk, eid, now, tombttl)
end
local old = redis.call('ZRANGEBYSCORE', tk, '-inf', now, 'LIMIT', 0, 16)
for _, eid in ipairs(old) do
  redis.call('HDEL', rk, eid)
  redis.call('ZREM', tk, eid)
end

local floor, worst = tonumber(ARGV[7]), tonumber(ARGV[8])
local report = tonumber(ARGV[9])
local clamped = 0
local nb = tonumber(ARGV[10])
if floor > 0 then
  -- Headroom pass: the least any limited budget or token window has left.
  local h = -1
  local a = 11
  for j = 1, nb do
    local k, lim = ARGV[a], tonumber(ARGV[a + 1])
    a = a + 2
    if lim > 0 then
      local v = redis.call('HMGET', bk, 'u:' .. k, 'r:' .. k)
      local left = lim - ((tonumber(v[1]) or 0) + (tonumber(v[2]) or 0))
      if left < 0 then left = 0 end
      if h < 0 or left < h then h = left end
    end
  end
  local nwh = tonumber(ARGV[a])
  a = a + 1
  for j = 1, nwh do
    local flags, w, lim = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local f = ARGV[a] .. ':' .. ARGV[a + 1]
    a = a + 3
    if flags % 2 == 1 then
      local fixed = flags >= 2
      local i, c, t = window(wk, f, w, now, fixed)
      local left = wremaining(c, t, w, now, lim, fixed)
      if h < 0 or left < h then h = left end
    end
  end
  if h >= 0 and h < worst then
    clamped = 1
    res = h
    if res < floor then res = floor end
  end
end

local need = res
if need < 1 then need = 1 end

local a = 11
local bkeys, btot = {}, {}
for j = 1, nb do
  local k, lim = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local v = redis.call('HMGET', bk, 'u:' .. k, 'r:' .. k)
  local tot = (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
  if lim > 0 and tot + need > lim then
    local rem = lim - tot
    if rem < 0 then rem = 0 end
    return {1, now, j, lim, rem, 0, 0}
  end
  bkeys[j], btot[j] = k, tot
end

local nw = tonumber(ARGV[a])
a = a + 1
local wf, wi, wc, wt, wrem, wdr = {}, {}, {}, {}, {}, {}
local maxw = 0
for j = 1, nw do
  local flags, w, lim = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local f = ARGV[a] .. ':' .. ARGV[a + 1]
  a = a + 3
  local tokens = flags % 2 == 1
  local fixed = flags >= 2
  local i, c, t = window(wk, f, w, now, fixed)
  local cost = 1
  if tokens then cost = res end
  local nd = cost
  if nd < 1 then nd = 1 end
  if not wfits(c, t, w, now, nd, lim, fixed) then
    return {2, now, j, lim, wremaining(c, t, w, now, lim, fixed), wretry(i, t, w, now, nd, lim, fixed), wdrain(i, t, w, now, fixed)}
  end
  if fixed then c = c + cost else t = wbase(t, now) + span(cost, w, lim) end
  wf[j], wi[j], wc[j], wt[j] = f, i, c, t
  wrem[j], wdr[j] = wremaining(c, t, w, now, lim, fixed), wdrain(i, t, w, now, fixed)
  if w > maxw then maxw = w end
end

if maxp > 0 then
  local n = redis.call('ZCOUNT', lk, '(' .. now, '+inf')
  if n >= maxp then
    local first = redis.call('ZRANGEBYSCORE', lk, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    return {3, now, 0, maxp, 0, 1000, tonumber(first[2]) or 0}
  end
end

-- Every check passed: apply everything.
if report <= 0 then report = res end
local rec = tostring(res) .. '/' .. tostring(report)
for j = 1, nb do
  if res ~= 0 then redis.call('HINCRBY', bk, 'r:' .. bkeys[j], res) end
  rec = rec .. '\n' .. bkeys[j]
end
for j = 1, nw do
  local f = wf[j]
  redis.call('HSET', wk, f .. ':i', num(wi[j]), f .. ':c', num(wc[j]), f .. ':t', num(wt[j]))
end
if maxw > 0 and redis.call('PTTL', wk) < 2 * maxw then
  redis.call('PEXPIRE', wk, 2 * maxw)
end
redis.call('ZADD', lk, now + ttl, id)
redis.call('HSET', rk, id, rec)

local out = {0, now, nb}
for j = 1, nb do out[#out + 1] = btot[j] + res end
out[#out + 1] = nw
for j = 1, nw do
  out[#out + 1] = wi[j]
  out[#out + 1] = wrem[j]
  out[#out + 1] = wdr[j]
end
out[#out + 1] = res
out[#out + 1] = clamped
return out
`)

// settleScript. ARGV: 1 lease id, 2 used tokens, 3 token window count, then
// per token window flags, window ms, bucket, limit. The reservation and its budgets
// come from the lease record, so a settle can only undo what was reserved.
// Returns 1 settled, 2 settled after expiry (charge corrected), 0 already settled.
var settleScript = redis.NewScript(luaSplit + `
local bk, lk, rk, tk, wk = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
local used = tonumber(ARGV[2])
local rec = redis.call('HGET', rk, id)
if not rec then return 0 end
local expired = string.sub(rec, 1, 1) == 'x'
if expired then rec = string.sub(rec, 2) end
local parts = split(rec)
local res, charged = head(parts[1])
local delta = used - res
for j = 2, #parts do
  local k = parts[j]
  if expired then
    if redis.call('HINCRBY', bk, 'u:' .. k, used - charged) < 0 then
      redis.call('HSET', bk, 'u:' .. k, 0)
    end
  else
    if res ~= 0 then redis.call('HINCRBY', bk, 'r:' .. k, -res) end
    if used ~= 0 then redis.call('HINCRBY', bk, 'u:' .. k, used) end
  end
end
if delta ~= 0 then
  local nw = tonumber(ARGV[3])
  local a = 4
  for j = 1, nw do
    local f = ARGV[a] .. ':' .. ARGV[a + 1]
    local fixed = tonumber(ARGV[a]) >= 2
    local w, idx, lim = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    a = a + 4
    if fixed then
      local v = redis.call('HMGET', wk, f .. ':i', f .. ':c')
      if tonumber(v[1]) == idx then
        local c = (tonumber(v[2]) or 0) + delta
        if c < 0 then c = 0 end
        redis.call('HSET', wk, f .. ':c', num(c))
      end
    else
      local t = tonumber(redis.call('HGET', wk, f .. ':t'))
      if t then
        if delta < 0 then t = t - span(-delta, w, lim) else t = t + span(delta, w, lim) end
        redis.call('HSET', wk, f .. ':t', num(t))
      end
    end
  end
end
redis.call('HDEL', rk, id)
redis.call('ZREM', lk, id)
if expired then
  redis.call('ZREM', tk, id)
  return 2
end
return 1
`)

// keepAliveScript. KEYS: lease zset, lease records. ARGV: 1 lease id,
// 2 ttl ms, 3 now ms (0 = TIME), 4 usage so far (0 = keep the last report).
// Returns 1, or 0 for a settled or expired lease.
var keepAliveScript = redis.NewScript(luaSplit + `
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if (not rec) or string.sub(rec, 1, 1) == 'x' then return 0 end
local report = tonumber(ARGV[4])
if report > 0 then
  local nl = string.find(rec, '\n', 1, true)
  local r = head(split(rec)[1])
  local rest = ''
  if nl then rest = string.sub(rec, nl) end
  redis.call('HSET', KEYS[2], ARGV[1], tostring(r) .. '/' .. tostring(report) .. rest)
end
redis.call('ZADD', KEYS[1], 'XX', clock(ARGV[3]) + tonumber(ARGV[2]), ARGV[1])
return 1
`)

// releaseScript frees the leases a previous run of this proxy instance
// left behind, as expiry would, at once. KEYS: the subject's five keys.
// ARGV: 1 instance prefix, 2 this run's prefix, 3 now ms (0 = TIME),
// 4 tombstone ttl ms. Returns how many leases it freed.
var releaseScript = redis.NewScript(luaSplit + `
local bk, lk, rk, tk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local inst, mine = ARGV[1], ARGV[2]
local now = clock(ARGV[3])
local tombttl = tonumber(ARGV[4])
local n = 0
for _, id in ipairs(redis.call('ZRANGE', lk, 0, -1)) do
  if string.sub(id, 1, #inst) == inst and string.sub(id, 1, #mine) ~= mine then
    expire(bk, rk, tk, lk, id, now, tombttl)
    n = n + 1
  end
end
return n
`)

// syncScript adds usage settled locally during an outage. KEYS: budgets,
// lease records, tombstones. ARGV: 1 batch id, 2 now ms (0 = TIME),
// 3 marker ttl ms, then per budget key, delta. The batch id makes a retried
// call a no-op. Returns 1 applied, 0 already applied.
var syncScript = redis.NewScript(luaSplit + `
local bk, rk, tk = KEYS[1], KEYS[2], KEYS[3]
local mark = 'sync:' .. ARGV[1]
if redis.call('HSETNX', rk, mark, 'x') == 0 then return 0 end
redis.call('ZADD', tk, clock(ARGV[2]) + tonumber(ARGV[3]), mark)
for a = 4, #ARGV, 2 do
  local f = 'u:' .. ARGV[a]
  if redis.call('HINCRBY', bk, f, ARGV[a + 1]) < 0 then
    redis.call('HSET', bk, f, 0)
  end
end
return 1
`)
