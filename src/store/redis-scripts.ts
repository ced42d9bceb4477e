// The Lua scripts behind every Redis write and the list snapshot. A script
// runs atomically on the server: the revision check, the revision bump, the
// object write and the change record happen together or not at all, and
// every client sees them in the same order.
//
// Scripts are loaded with ioredis' defineCommand (EVALSHA, falling back to
// EVAL after a Redis restart flushed the script cache).
//
// The object JSON arrives in two parts and the script puts the new revision
// between them (head .. revision .. tail), so the stored JSON carries its
// own resourceVersion without Lua parsing JSON (cjson would turn [] into {}).
// The stored revision is read back with a pattern: Pier writes
// metadata.resourceVersion as the first key of metadata, after apiVersion and
// kind, and a quote inside a JSON string is always escaped, so the first
// `"resourceVersion":"<digits>"` in a value Pier wrote is that one.

/** Shared prologue: the stored revision of ARGV-named field `current`, 0 when absent, -1 when unreadable. */
const REVISION_OF = `
local function revision_of(value)
  if not value then return 0 end
  local rv = string.match(value, '"resourceVersion":"(%d+)"')
  if not rv then return -1 end
  return tonumber(rv)
end
-- The next revision. It also stays above the stream's last id, so a lost or
-- evicted counter cannot make XADD fail after the object was written.
local function next_revision(counter, stream)
  local rev = redis.call('INCR', counter)
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if top then
    local last = tonumber(string.match(top[1], '^(%d+)'))
    if last >= rev then
      rev = last + 1
      redis.call('SET', counter, string.format('%d', rev))
    end
  end
  return rev
end
`;

/**
 * apply. KEYS: revision counter, kind hash, change stream.
 * ARGV: field, expected revision ('' for none), JSON head, JSON tail, stream MAXLEN, kind.
 * Returns {1, revision, 'added'|'modified'} or, on a failed expectation, {0, actual}.
 */
export const APPLY_SCRIPT = `${REVISION_OF}
local current = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  local actual = revision_of(current)
  if actual ~= tonumber(ARGV[2]) then return {0, actual} end
end
local rev = next_revision(KEYS[1], KEYS[3])
local rv = string.format('%d', rev)
local json = ARGV[3] .. rv .. ARGV[4]
redis.call('HSET', KEYS[2], ARGV[1], json)
local change = 'added'
if current then change = 'modified' end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], rv .. '-0', 't', change, 'k', ARGV[6], 'f', ARGV[1], 'o', json)
return {1, rev, change}
`;

/**
 * delete. KEYS: revision counter, kind hash, change stream.
 * ARGV: field, expected revision ('' for none), stream MAXLEN, kind.
 * Returns {1, revision} when deleted, {2, 0} when there was nothing, {0, actual} on a failed expectation.
 */
export const DELETE_SCRIPT = `${REVISION_OF}
local current = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  local actual = revision_of(current)
  if actual ~= tonumber(ARGV[2]) then return {0, actual} end
end
if not current then return {2, 0} end
local rev = next_revision(KEYS[1], KEYS[3])
local rv = string.format('%d', rev)
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], rv .. '-0', 't', 'deleted', 'k', ARGV[4], 'f', ARGV[1], 'o', current)
return {1, rev}
`;

/** list. KEYS: revision counter, kind hash. Returns {revision, {field, json, field, json, ...}}. */
export const LIST_SCRIPT = `
local rev = redis.call('GET', KEYS[1])
return {tonumber(rev) or 0, redis.call('HGETALL', KEYS[2])}
`;
