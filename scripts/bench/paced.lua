-- wrk script: paces each connection so that all of them together send about KG_RATE requests a second (each
-- connection waits connections / rate seconds after an answer before its next request), with the Cookie of
-- KG_SESSION when set. wrk then reports latency at that fixed offered load, not at saturation. Unlike wrk2 the
-- wait starts after the answer, so a slow answer delays the next request (coordinated omission): the percentiles
-- read low when the server stalls; the script reports the rate actually reached, so that shows.
local rate = tonumber(os.getenv("KG_RATE") or "2000")
local session = os.getenv("KG_SESSION")
local connections = tonumber(os.getenv("KG_CONNECTIONS") or "16")

function request()
  if session and session ~= "" then
    return wrk.format("GET", nil, { ["Cookie"] = "JSESSIONID=" .. session })
  end
  return wrk.format("GET", nil)
end

function delay()
  return connections * 1000 / rate
end
