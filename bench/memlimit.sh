#!/usr/bin/env bash
# bench/memlimit.sh — does the gateway hold 100,000 cached tokens of the
# 1M-token store inside a memory limit?
#
# Runs ./caddy with channelgate (cache_size 100000) on a copy of the store
# bench/load builds, inside a memory cgroup limited to LIMIT bytes (memory
# and swap together; default 200 MB), and cycles wrk over 100,000 distinct
# tokens until the cache holds them all. Prints, after each 3-second run,
# the cache entries, throughput, non-2xx answers, the process's VmRSS,
# RssAnon (its own memory) and RssFile (bbolt's mapped pages), and the
# cgroup's usage. The kernel reclaims mapped file pages to stay inside the
# limit, and Caddy sets GOMEMLIMIT to 90 % of a cgroup's limit (its
# automemlimit); an OOM kill or a non-2xx answer fails the run.
#
# Needs root, a memory cgroup (v2 or v1), wrk, ./caddy (./xcaddy.sh) and
# the store (go run ./bench/load -prepare). Uses 127.0.0.1:27300 and the
# Caddy admin endpoint localhost:27301.
#
#   sudo bash bench/memlimit.sh            # LIMIT=200000000 RUNS=12
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${LIMIT:-200000000}
runs=${RUNS:-12}
data=bench/.data
[ -x ./caddy ] || { echo "build ./caddy first: ./xcaddy.sh" >&2; exit 1; }
[ -f $data/store-1000000.db ] || { echo "build the store first: go run ./bench/load -prepare" >&2; exit 1; }

tmp=$(mktemp -d)
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then # cgroup v2
	cg=/sys/fs/cgroup/channelgate-memlimit-$$
	mkdir "$cg"
	echo "$limit" > "$cg/memory.max"
	echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
	usage() { cat "$cg/memory.current"; }
	killed() { awk '/^oom_kill /{print $2}' "$cg/memory.events"; }
else # cgroup v1
	cg=/sys/fs/cgroup/memory/channelgate-memlimit-$$
	mkdir "$cg"
	echo "$limit" > "$cg/memory.limit_in_bytes"
	echo "$limit" > "$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
	usage() { cat "$cg/memory.usage_in_bytes"; }
	killed() { awk '/^oom_kill /{print $2}' "$cg/memory.oom_control"; }
fi
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rmdir "$cg" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/storage/acme/noarch"
echo SECRET > "$tmp/storage/acme/noarch/secret-1.0-0.conda"
cp $data/store-1000000.db "$tmp/store.db"
cat > "$tmp/Caddyfile" <<EOF
{
	admin localhost:27301
	auto_https off
	storage file_system $tmp/caddydata
	log {
		level ERROR
	}
}
http://127.0.0.1:27300 {
	channelgate {
		db $tmp/store.db
		cache_size 100000
		failure_limit off
	}
	root * $tmp/storage
	file_server
}
EOF
# The store copy was just written: drop it from the page cache so that
# the run starts as a restarted server does.
sync && echo 1 > /proc/sys/vm/drop_caches || true
sh -c "echo \$\$ > $cg/cgroup.procs && exec ./caddy run --config $tmp/Caddyfile" > "$tmp/caddy.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	curl -sf -o /dev/null localhost:27301/config/ && break
	sleep 0.1
done
status() { grep -E "^$1:" /proc/$pid/status | awk '{printf "%.1f", $2/1024}'; }
echo "limit $((limit / 1000000)) MB; $(uname -r); $(nproc) CPUs"
echo "| run | cache entries | req/s | non-2xx | VmRSS MiB | RssAnon MiB | RssFile MiB | cgroup usage MiB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for i in $(seq 0 $((runs - 1))); do
	out=$(WRK_THREADS=2 wrk -t2 -c32 -d3s -s bench/load/wrk.lua http://127.0.0.1:27300 -- \
		cycle /acme/noarch/secret-1.0-0.conda $data/tokens-1000000.txt 100000 0 $((i * 12000)))
	kill -0 "$pid" 2>/dev/null || { echo "caddy died (OOM kills: $(killed))"; exit 1; }
	entries=$(curl -s localhost:27301/metrics | awk '/^channelgate_cache_entries /{print $2}')
	rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$out")
	echo "| $i | $entries | $rps | ${non2xx:-0} | $(status VmRSS) | $(status RssAnon) | $(status RssFile) | $(($(usage) / 1048576)) |"
	[ -z "$non2xx" ] || { echo "non-2xx answers" >&2; exit 1; }
done
