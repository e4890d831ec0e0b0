-- wrk script: POST /api/v1/auth with a fresh, correctly obfuscated login per request.
-- Each request gets its own millisecond timestamp (threads interleave by id), so none is a replay.
local key, user, pass = os.getenv("KG_KEY"), os.getenv("KG_USER"), os.getenv("KG_PASS")
local base = tonumber(os.getenv("KG_TS"))
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  local ts = string.format("%d", base + counter * 8 + tid)
  local n = ts:sub(-6)
  local r = string.format("%06d", math.floor(tonumber(n) / 2))
  local o = {}
  for i = 1, 6 do local d = tonumber(n:sub(i, i)); o[#o + 1] = key:sub(d + 1, d + 1) end
  for i = 1, 6 do local d = tonumber(r:sub(i, i)); o[#o + 1] = key:sub(d + 3, d + 3) end
  local body = string.format('{"apiKey":"%s","username":"%s","password":"%s","timestamp":%s}',
    table.concat(o), user, pass, ts)
  return wrk.format("POST", "/api/v1/auth", { ["Content-Type"] = "application/json" }, body)
end
