-- Delete a snapshot unless a newer one was written after the caller's last write.
-- KEYS[1] snapshot hash key
-- ARGV[1] the caller's last seq
-- Returns 1 when deleted (or absent), 0 when a newer snapshot exists.
local stored = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if stored > tonumber(ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
