-- wrk script: GET /api/v1/apiKeys with the session ids listed in the file KG_SESSIONS (one per line), round-robin
-- per thread, so the server checks every live session in turn (its session cache holds all of them).
local sessions = {}
for line in io.lines(os.getenv("KG_SESSIONS")) do sessions[#sessions + 1] = line end
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local i = 0
function request()
  i = i + 1
  local s = sessions[((i * 7 + tid) % #sessions) + 1]
  return wrk.format("GET", "/api/v1/apiKeys", { ["Cookie"] = "JSESSIONID=" .. s })
end
