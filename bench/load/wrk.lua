-- wrk script of bench/load. Every variant goes through it, so that the
-- client does the same work per request whatever is measured: request()
-- returns a request formatted in advance.
--
-- Arguments (after --):
--   fixed <path> [<authorization>]           one request, repeated
--   cycle <path-suffix> <token-file> <n> <delay-ms> <start> [<client>]
--       /t/<token><path-suffix> over the first n tokens of the file, each
--       thread starting at its own offset from start (so that successive
--       runs go on where the last stopped); delay-ms is the pause before
--       each request when the script has a delay() (the flood); client,
--       if given, is sent as X-Forwarded-For (another client address,
--       through a proxy the server trusts).
-- done() prints one line "WRKJSON {...}" that bench/load parses.

local counter = 0
function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
end

local reqs = {}
local n, i = 0, 0
local pause = 0

function init(args)
	local mode = args[1]
	if mode == "fixed" then
		local hdr = {}
		if args[3] ~= nil and args[3] ~= "" then
			hdr["Authorization"] = args[3]
		end
		reqs[1] = wrk.format("GET", args[2], hdr)
		n = 1
	elseif mode == "cycle" then
		local suffix, file, want = args[2], args[3], tonumber(args[4])
		pause = tonumber(args[5] or "0")
		local hdr = {}
		if args[7] ~= nil and args[7] ~= "" then
			hdr["X-Forwarded-For"] = args[7]
		end
		for line in io.lines(file) do
			if n >= want then break end
			n = n + 1
			reqs[n] = wrk.format("GET", "/t/" .. line .. suffix, hdr)
		end
		if n < want then
			error("token file " .. file .. " has only " .. n .. " tokens")
		end
		-- Threads start spread over the list, so together they cycle
		-- through all n tokens rather than all of them through the same
		-- first few.
		local threads = tonumber(os.getenv("WRK_THREADS") or "1")
		local start = tonumber(args[6] or "0")
		i = (start + math.floor((tid or 0) * n / threads)) % n
	else
		error("unknown mode " .. tostring(mode))
	end
end

function request()
	i = i + 1
	if i > n then i = 1 end
	return reqs[i]
end

-- delay() is not defined here: wrk schedules every request through a
-- timer when it is. bench/load appends one for the flood script only:
--   function delay() return pause end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
		'"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
		summary.requests, summary.duration, summary.bytes,
		latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
		e.status, e.connect, e.read, e.write, e.timeout))
end
