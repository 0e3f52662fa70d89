"""The Lua that makes the Redis store's multi-step writes atomic across every engine process.

Each script is `PRELUDE` + its body and receives the key prefix as ARGV[1]; the keys it touches are built
from the prefix and the ids it is given (one standalone Redis or a primary with replicas, not Redis Cluster).
Numbers go back into Redis through `num()`: Lua's own conversion keeps 14 digits, which would round a Unix
time in milliseconds.

Keys (P = prefix):
    P:m:<id>   hash   the message's mutable and filter fields (st state, att attempts, at created,
                      ch channel, dst destination, host, w wants reports, sg/sn/en status, fin final,
                      fr failure reason, mc message count)
    P:b:<id>   string the message as JSON          P:t:<id>  string its timeline (JSON lines)
    P:q        zset   QUEUED ids by due time        P:l       zset  SENDING ids by lease end
    P:c        hash   message count per state       P:speed   hash  last due time per speed-limit key
    P:dest     hash   destination (no '+') -> id of the latest message to it, for inbound pairing
    P:r:<key>  string a recorded report, by dedupe key
    P:o        zset   outbox item ids (16 digits, so they sort as numbers) by due time
    P:o:<n>    hash   an outbox item (host, att, err, mid, rep)     P:oi  counter of outbox ids
    P:acct     hash   sealed provider accounts by name
    P:k:<key>  string the id of the message stored under an idempotency key
    P:y:<key>  string the id of the message stored under a retry key, expiring when its window ends
    P:d:<namespace>:<key>  string  a plugin's value     P:dn:<namespace>  set  the keys of its values
"""

from __future__ import annotations

PRELUDE = """
local P = ARGV[1]
local function num(x) return string.format('%.17g', x) end
local function msg(id) return P .. ':m:' .. id end

-- Move a message to another state: keep the per-state counts and leave the queue or lease set.
local function move(id, to)
  local key = msg(id)
  local from = redis.call('HGET', key, 'st')
  if from == to then return end
  if from == 'QUEUED' then redis.call('ZREM', P .. ':q', id)
  elseif from == 'SENDING' then redis.call('ZREM', P .. ':l', id) end
  if from then redis.call('HINCRBY', P .. ':c', from, -1) end
  redis.call('HINCRBY', P .. ':c', to, 1)
  redis.call('HSET', key, 'st', to)
end

local function add_outbox(host, due, mid, report)
  local n = redis.call('INCR', P .. ':oi')
  redis.call('ZADD', P .. ':o', num(due), string.format('%016d', n))
  redis.call('HSET', P .. ':o:' .. n, 'host', host, 'att', 0, 'mid', mid, 'rep', report)
end
"""

# ARGV: P, the number of messages, then 13 per message: id, body, channel, destination, host, wants, speed
# key, interval, timeline line, now, idempotency key and retry key ('' for none), when the retry key's window
# ends in Unix ms; then 5 per plugin value: namespace, key, value, expiry in Unix ms ('' for none), and the
# ids of the messages it came with as a JSON list, of which one must be stored for it to be ('' when it is
# stored whatever became of them).
# Returns key, id, key, id ...: each idempotency or retry key and the id of the message stored under it.
ENQUEUE = """
local n, out = tonumber(ARGV[2]), {}
local function answer(ikey, rkey, id)
  if ikey ~= '' then out[#out + 1] = ikey; out[#out + 1] = id end
  if rkey ~= '' then out[#out + 1] = rkey; out[#out + 1] = id end
end
for i = 3, 2 + 13 * n, 13 do
  local id, dst, skey, now = ARGV[i], ARGV[i + 3], ARGV[i + 6], tonumber(ARGV[i + 9])
  local ikey, rkey = ARGV[i + 10], ARGV[i + 11]
  local first = ikey ~= '' and redis.call('GET', P .. ':k:' .. ikey)
  if not first and rkey ~= '' then first = redis.call('GET', P .. ':y:' .. rkey) end
  if first then
    answer(ikey, rkey, first)
  elseif redis.call('EXISTS', msg(id)) == 1 then
    answer(ikey, rkey, id)
  else
    if ikey ~= '' then redis.call('SET', P .. ':k:' .. ikey, id) end
    if rkey ~= '' then redis.call('SET', P .. ':y:' .. rkey, id, 'PXAT', ARGV[i + 12]) end
    answer(ikey, rkey, id)
    local due = now
    if skey ~= '' then
      local last = redis.call('HGET', P .. ':speed', skey)
      if last then due = math.max(now, tonumber(last) + tonumber(ARGV[i + 7])) end
      redis.call('HSET', P .. ':speed', skey, num(due))
    end
    redis.call('HSET', msg(id), 'st', 'QUEUED', 'at', num(now), 'ch', ARGV[i + 2], 'dst', dst,
      'host', ARGV[i + 4], 'w', ARGV[i + 5])
    redis.call('SET', P .. ':b:' .. id, ARGV[i + 1])
    redis.call('SET', P .. ':t:' .. id, ARGV[i + 8])
    redis.call('ZADD', P .. ':q', num(due), id)
    redis.call('HINCRBY', P .. ':c', 'QUEUED', 1)
    if dst ~= '' then redis.call('HSET', P .. ':dest', (string.gsub(dst, '^%++', '')), id) end
  end
end
for j = 3 + 13 * n, #ARGV, 5 do
  local ns, key, ids = ARGV[j], ARGV[j + 1], ARGV[j + 4]
  local keep = ids == ''
  if not keep then
    for _, id in ipairs(cjson.decode(ids)) do
      if redis.call('EXISTS', msg(id)) == 1 then keep = true; break end
    end
  end
  if keep then
    local dkey = P .. ':d:' .. ns .. ':' .. key
    if ARGV[j + 3] == '' then redis.call('SET', dkey, ARGV[j + 2])
    else redis.call('SET', dkey, ARGV[j + 2], 'PXAT', ARGV[j + 3]) end
    redis.call('SADD', P .. ':dn:' .. ns, key)
  end
end
return out
"""

# ARGV: P, now, limit, lease end. Returns body, attempts, body, attempts, ... earliest due first.
CLAIM = """
local now, limit, lease_end = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local q = redis.call('ZRANGE', P .. ':q', '-inf', now, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
local l = redis.call('ZRANGE', P .. ':l', '-inf', now, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
local out, i, j = {}, 1, 1
while #out < 2 * limit and (i <= #q or j <= #l) do
  local id
  -- merge by due time; a queued message goes before an ended lease of the same time
  if j > #l or (i <= #q and tonumber(q[i + 1]) <= tonumber(l[j + 1])) then
    id = q[i]; i = i + 2
  else
    id = l[j]; j = j + 2
  end
  move(id, 'SENDING')
  redis.call('ZADD', P .. ':l', lease_end, id)
  local attempts = redis.call('HINCRBY', msg(id), 'att', 1)
  out[#out + 1] = redis.call('GET', P .. ':b:' .. id)
  out[#out + 1] = attempts
end
return out
"""

# ARGV: P, now. Every SENDING message is QUEUED again, due now. Returns how many.
RECOVER = """
local now = ARGV[2]
local ids = redis.call('ZRANGE', P .. ':l', 0, -1)
for _, id in ipairs(ids) do
  move(id, 'QUEUED')
  redis.call('ZADD', P .. ':q', now, id)
end
return #ids
"""

# ARGV: P, now, then 6 per message: id, status group, status name, message count or '', timeline line, and
# the SENT report its host is owed or ''
MARK_SENT = """
local now = tonumber(ARGV[2])
for i = 3, #ARGV, 6 do
  local id = ARGV[i]
  local st, fin = unpack(redis.call('HMGET', msg(id), 'st', 'fin'))
  if st then
    if ARGV[i + 5] ~= '' and fin ~= '1' then
      add_outbox(redis.call('HGET', msg(id), 'host'), now, id, ARGV[i + 5])
    end
    if st == 'QUEUED' or st == 'SENDING' then move(id, 'SENT') end
    if fin ~= '1' then redis.call('HSET', msg(id), 'sg', ARGV[i + 1], 'sn', ARGV[i + 2]) end
    if ARGV[i + 3] ~= '' then redis.call('HSET', msg(id), 'mc', ARGV[i + 3]) end
    redis.call('APPEND', P .. ':t:' .. id, ARGV[i + 4])
  end
end
"""

# ARGV: P, now, then 4 per message: id, reason, timeline line, the FAILED report the host is owed
MARK_FAILED = """
local now = tonumber(ARGV[2])
for i = 3, #ARGV, 4 do
  local id = ARGV[i]
  local st, fin, wants, host = unpack(redis.call('HMGET', msg(id), 'st', 'fin', 'w', 'host'))
  if st then
    if wants == '1' and fin ~= '1' and st ~= 'FAILED' then add_outbox(host, now, id, ARGV[i + 3]) end
    if fin ~= '1' then move(id, 'FAILED') end
    redis.call('HSET', msg(id), 'fr', ARGV[i + 1])
    redis.call('APPEND', P .. ':t:' .. id, ARGV[i + 2])
  end
end
"""

# ARGV: P, due time, timeline line, ids...
RETRY_LATER = """
local due = ARGV[2]
for i = 4, #ARGV do
  local id = ARGV[i]
  local st = redis.call('HGET', msg(id), 'st')
  if st == 'QUEUED' or st == 'SENDING' then
    move(id, 'QUEUED')
    redis.call('ZADD', P .. ':q', due, id)
    redis.call('APPEND', P .. ':t:' .. id, ARGV[3])
  end
end
"""

# ARGV: P, now, then 11 per report: dedupe key, body, message id or '', timeline line, is a delivery report,
# is final, state it moves the message to or '', status group, status name, error name, message count, and
# then the host to hand it to or ''. Returns the positions (1-based) of the reports that were new.
RECORD_REPORTS = """
local now = tonumber(ARGV[2])
local new = {}
for i = 3, #ARGV, 12 do
  local id = ARGV[i + 2]
  if redis.call('SET', P .. ':r:' .. ARGV[i], ARGV[i + 1], 'NX') then
    new[#new + 1] = (i - 3) / 12 + 1
    if id ~= '' then
      redis.call('APPEND', P .. ':t:' .. id, ARGV[i + 3])
      -- a final status never regresses to an intermediate one
      if ARGV[i + 4] == '1' and (ARGV[i + 5] == '1' or redis.call('HGET', msg(id), 'fin') ~= '1') then
        redis.call('HSET', msg(id), 'sg', ARGV[i + 7], 'sn', ARGV[i + 8], 'fin', ARGV[i + 5])
        if ARGV[i + 9] ~= '' then redis.call('HSET', msg(id), 'en', ARGV[i + 9])
        else redis.call('HDEL', msg(id), 'en') end
        if ARGV[i + 10] ~= '' then redis.call('HSET', msg(id), 'mc', ARGV[i + 10]) end
        if ARGV[i + 6] ~= '' then move(id, ARGV[i + 6]) end
      end
      if ARGV[i + 11] ~= '' then add_outbox(ARGV[i + 11], now, id, ARGV[i + 1]) end
    end
  end
end
return new
"""

# ARGV: P, now, limit, lease end. Returns id, host, report, attempts, message body or false, ...
CLAIM_OUTBOX = """
local items = redis.call('ZRANGE', P .. ':o', '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, member in ipairs(items) do
  local n = tonumber(member)
  redis.call('ZADD', P .. ':o', ARGV[4], member)
  local host, att, mid, rep = unpack(redis.call('HMGET', P .. ':o:' .. n, 'host', 'att', 'mid', 'rep'))
  out[#out + 1] = n
  out[#out + 1] = host
  out[#out + 1] = rep
  out[#out + 1] = tonumber(att)
  out[#out + 1] = redis.call('GET', P .. ':b:' .. mid)
end
return out
"""

# ARGV: P, due time, error, item id
RETRY_OUTBOX = """
local member = string.format('%016d', tonumber(ARGV[4]))
if redis.call('ZSCORE', P .. ':o', member) then
  redis.call('ZADD', P .. ':o', ARGV[2], member)
  redis.call('HINCRBY', P .. ':o:' .. ARGV[4], 'att', 1)
  redis.call('HSET', P .. ':o:' .. ARGV[4], 'err', ARGV[3])
end
"""

# ARGV: P, item ids...
ACK_OUTBOX = """
for i = 2, #ARGV do
  redis.call('ZREM', P .. ':o', string.format('%016d', tonumber(ARGV[i])))
  redis.call('DEL', P .. ':o:' .. ARGV[i])
end
"""
