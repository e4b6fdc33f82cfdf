-- Compare-and-set of a snapshot: write only if the stored sequence number is
-- the one the caller read (0 = key absent).
-- A key created here starts at the server's clock in microseconds, so a room
-- deleted and created again never reuses a sequence number a stale writer
-- could still hold (no ABA); later writes add 1.
-- KEYS[1] snapshot hash key
-- ARGV[1] expected seq
-- ARGV[2] document (JSON), or '' to delete the key
-- Returns the new seq on success (0 after a delete), -1 on conflict.
local stored = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local expected = tonumber(ARGV[1])
if stored ~= expected then
  return -1
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  return 0
end
local seq = expected + 1
if expected == 0 then
  local now = redis.call('TIME')
  seq = tonumber(now[1]) * 1000000 + tonumber(now[2])
end
redis.call('HSET', KEYS[1], 'seq', string.format('%d', seq), 'doc', ARGV[2])
return seq
