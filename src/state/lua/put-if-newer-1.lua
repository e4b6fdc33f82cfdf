-- Ordered snapshot write: store the document only if its sequence number is
-- newer than the stored one, so a late write never overwrites a newer snapshot.
-- KEYS[1] snapshot hash key
-- ARGV[1] seq (integer > 0)
-- ARGV[2] document (JSON)
-- ARGV[3] ttl in ms (0 = no expiry)
-- Returns 1 when written, 0 when the stored snapshot is as new or newer.
local stored = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local seq = tonumber(ARGV[1])
if seq <= stored then
  return 0
end
redis.call('HSET', KEYS[1], 'seq', seq, 'doc', ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
