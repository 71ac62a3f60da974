#!/bin/sh
# bench_pool.sh - the whole pool under load, on this machine's loopback:
# test/mocknode.js (a 4,000-transaction, ~2 MB template: a 12-level merkle
# branch; mainnet bits, so no share is a block), the pool with a temporary
# setting.ini, and test/loadgen.c as the miners.  Figures, never pass/fail.
#
#   sh test/bench_pool.sh                    (from the project root)
#   env: POOL_BIN (default ./stratum), CC (cc), SECS (5, per share run),
#        SKIP_MUSL=1 (no static musl build), PORT (pool; node is PORT+1),
#        ONLY="shares idle notify size" (the parts to run, default all)
#
# Prints "bench ..." lines:
#   pool_shares N=1,100,1000,10000  shares/s, p50/p99 reply latency, the
#       pool's CPU share and RSS (low-difficulty shares: every share gets
#       the full check and is answered 23); pool_shares_mc1024 is N=1 with
#       max_clients 1024 instead of 12000; pool_shares_k8 is N=100 with 8
#       submits in flight per miner; pool_shares_accepted the same with
#       difficulty 1e-12 (every share accepted: duplicate set, statistics)
#   pool_share_check_efficiency  shares per pool CPU second x compressions
#       per check / sha256_transform()s per CPU second (the target: >= 0.5)
#   pool_idle  10,000 authorized idle miners: pool RSS and RSS per miner
#       (users=1: one payout address; users=10000: one each)
#   pool_notify  new block -> clean mining.notify read by all 10,000
#       miners (from just before the node is told; from_node_write_ms from
#       the node's long-poll reply writes), and the pool's own log figure
#   pool_notify N=1  the same for one miner: receive + parse + job build of
#       the ~2 MB template, end to end (the pool logs no parse time itself)
#   send_floor  the notify's bytes in a bare send() loop to 10,000 loopback
#       connections (loadgen --send-floor, no pool), and
#       pool_notify_vs_send_floor: the pool's own figure over it
#   pool_static_size  make CC=musl-gcc LDFLAGS=-static, bytes
# Everything it starts is killed on exit; each step is bounded in time.
set -u

POOL_BIN=${POOL_BIN:-./stratum}
CC=${CC:-cc}
SECS=${SECS:-5}
PORT=${PORT:-$((20000 + $$ % 12000))}
ONLY=${ONLY:-shares idle notify size}
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
NODE_PORT=$((PORT + 1))
TMP=$(mktemp -d /tmp/bench_pool.XXXXXX) || exit 1
MOCK_PID=
POOL_PID=
RUN=0

stop_pool() {
	[ -n "$POOL_PID" ] || return 0
	kill -TERM "$POOL_PID" 2>/dev/null
	i=0
	while kill -0 "$POOL_PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$POOL_PID" 2>/dev/null
	wait "$POOL_PID" 2>/dev/null
	POOL_PID=
}

cleanup() {
	stop_pool
	[ -n "$MOCK_PID" ] && kill -TERM "$MOCK_PID" 2>/dev/null
	[ -n "$MOCK_PID" ] && wait "$MOCK_PID" 2>/dev/null
	MOCK_PID=
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() { echo "bench_pool: $*" >&2; }

if ! command -v node >/dev/null 2>&1; then
	say "skipped: node (for test/mocknode.js) not found"
	exit 0
fi
if [ ! -x "$POOL_BIN" ]; then
	say "skipped: no pool binary $POOL_BIN (run make first)"
	exit 0
fi
# 10,000 miners: the pool and the load generator need descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12100 ]; then
	say "ulimit -n is $(ulimit -n): runs above $(($(ulimit -n) - 100)) miners skipped"
fi
MAXN=$(($(ulimit -n) - 100))

CFL="-std=c11 -D_POSIX_C_SOURCE=200809L -O2"
$CC $CFL -I. test/loadgen.c sha256.c json.c -o "$TMP/loadgen" ||
    { say "cannot build test/loadgen.c"; exit 1; }
LG="$TMP/loadgen"
# The raw compression rate in CPU time (as the pool's shares per CPU
# second), before anything else of ours runs.
SHA_LINE=$("$LG" --sha-rate)
echo "$SHA_LINE"
COMPRESS=$(echo "$SHA_LINE" | awk '{ sub("median_per_s=", "", $3); print $3 + 0 }')

# The node.  Its /stats says how many long polls it holds: a pool that
# holds one has taken its first template and is ready.
node_stat() {
	node -e "require('http').get('http://127.0.0.1:$NODE_PORT/stats',
	  r => { let s = ''; r.on('data', d => s += d).on('end', () =>
	  console.log(JSON.parse(s)['$1'])); }).on('error', () =>
	  console.log(-1));"
}
node test/mocknode.js --port "$NODE_PORT" --ntx 4000 >"$TMP/mock.log" 2>&1 &
MOCK_PID=$!
i=0
until grep -q "^mocknode: port" "$TMP/mock.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { say "mock node did not start"; cat "$TMP/mock.log" >&2; exit 1; }
	sleep 0.1
done
say "$(cat "$TMP/mock.log")"

# start_pool LOG_LEVEL DIFFICULTY MAX_CLIENTS: a fresh data_dir each time,
# so no statistics carry over from the run before.
start_pool() {
	RUN=$((RUN + 1))
	mkdir -p "$TMP/data$RUN"
	cat >"$TMP/setting$RUN.ini" <<EOF
[bitcoin.conf]
rpcuser = bench
rpcpassword = bench
host = 127.0.0.1
port = $NODE_PORT
[difficulty]
start_difficulty = $2
min_difficulty = $2
max_difficulty = $2
[stratum]
host = 127.0.0.1
port = $PORT
max_clients = $3
data_dir = $TMP/data$RUN
log_level = $1
max_rejects = 1000000
ban_seconds = 0
[api]
port = 0
EOF
	"$POOL_BIN" -c "$TMP/setting$RUN.ini" >"$TMP/pool$RUN.log" 2>&1 &
	POOL_PID=$!
	i=0
	while [ "$(node_stat held)" -lt 1 ]; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 "$POOL_PID" 2>/dev/null; then
			say "pool did not take a template; its log:"
			cat "$TMP/pool$RUN.log" >&2
			exit 1
		fi
		sleep 0.2
	done
}

# Warnings and errors the pool logged during a run, for the report.
pool_problems() {
	n=$(grep -c " WARN \| ERROR \| FATAL " "$TMP/pool$RUN.log")
	if [ "$n" -gt 0 ]; then
		say "pool log of run $RUN ($1) has $n warnings/errors, first ones:"
		grep " WARN \| ERROR \| FATAL " "$TMP/pool$RUN.log" | head -5 >&2
	fi
}

lg() {
	timeout 300 "$LG" --pid "$POOL_PID" --port "$PORT" "$@" ||
	    say "loadgen $* failed"
}

efficiency() {
	awk -v c="$COMPRESS" '{ print } /^bench pool_shares/ {
	    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	    if (c > 0 && v["shares_per_pool_cpu_s"] > 0)
	        printf "bench pool_share_check_efficiency %s N=%s " \
	            "compressions_per_check=%s sha256_compress_per_s=%s " \
	            "value=%.2f\n", $2, v["N"], v["compressions_per_check"], c,
	            v["shares_per_pool_cpu_s"] * v["compressions_per_check"] / c
	}'
}

# The pool's "jobs sent to N miners X ms after the node's news" (info):
# from the parsed long-poll reply to the last notify handed to the kernel.
pool_log_figure() {	# USERS ROUNDS
	grep "jobs sent to" "$TMP/pool$RUN.log" | tail -"$2" |
	    sed 's/.*jobs sent to \([0-9]*\) miners \([0-9]*\) ms.*/\1 \2/' |
	    sort -n -k2 | awk -v u="$1" '{ m[NR] = $2; n = $1 } END {
	    if (NR) printf "bench pool_notify_pool_log N=%d users=%s " \
	        "rounds=%d median_ms=%s\n", n, u, NR, m[int((NR + 1) / 2)] }'
}

shares() {	# LABEL DIFFICULTY MAX_CLIENTS N [K]
	[ "$4" -le "$MAXN" ] || return 0
	start_pool warn "$2" "$3"
	lg --label "$1" --conns "$4" --outstanding "${5:-1}" --secs "$SECS" \
	    --timeout 120 | efficiency
	pool_problems "$1 N=$4"
	stop_pool
}

if want shares; then
	for n in 1 100 1000 10000; do
		shares pool_shares 1 12000 "$n"
	done
	shares pool_shares_mc1024 1 1024 1
	shares pool_shares_k8 1 12000 100 8
	shares pool_shares_accepted 1e-12 12000 100
	shares pool_shares_accepted 1e-12 12000 10000
fi

if [ 10000 -le "$MAXN" ] && want idle; then
	for u in 1 10000; do
		start_pool warn 1 12000
		lg --idle --conns 10000 --users "$u" --timeout 120
		pool_problems "idle users=$u"
		stop_pool
	done
fi
if [ 10000 -le "$MAXN" ] && want notify; then
	# info: the pool's own "jobs sent to N miners X ms after the node's
	# news" line (info also logs each miner's authorize at start).
	for u in 1 10000; do
		start_pool info 1 12000
		lg --notify --node-port "$NODE_PORT" --conns 10000 \
		    --users "$u" --rounds 5 --timeout 150 | tee "$TMP/notify$u"
		pool_log_figure "$u" 5 | tee -a "$TMP/notify$u"
		pool_problems "notify users=$u"
		stop_pool
	done
	# The same bytes in a bare send() loop, no pool: the machine's bound.
	bytes=$(sed -n 's/^bench pool_notify .*notify_bytes=\([0-9]*\).*/\1/p' \
	    "$TMP/notify1")
	timeout 120 "$LG" --send-floor --conns 10000 --bytes "${bytes:-1200}" \
	    --rounds 5 | tee "$TMP/floor" || say "loadgen --send-floor failed"
	cat "$TMP/notify1" "$TMP/notify10000" "$TMP/floor" | awk '
	    { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] } }
	    $2 == "pool_notify_pool_log" { log_ms[v[$2, "users"]] = v[$2, "median_ms"] }
	    $2 == "send_floor" { f = v[$2, "median_send_loop_ms"] }
	    END { if (f > 0) for (u in log_ms) printf "bench pool_notify_vs_send_floor " \
	        "N=10000 users=%s pool_log_ms=%s send_floor_ms=%s value=%.2f\n",
	        u, log_ms[u], f, log_ms[u] / f }'
fi
if want notify; then
	start_pool info 1 12000
	lg --notify --node-port "$NODE_PORT" --conns 1 --rounds 7 --timeout 60
	pool_log_figure 1 7
	pool_problems "notify N=1"
	stop_pool
fi

if want size && [ "${SKIP_MUSL:-}" = "" ] && command -v musl-gcc >/dev/null 2>&1; then
	if make -s O="$TMP/musl" BIN="$TMP/musl/stratum" CC=musl-gcc \
	    LDFLAGS=-static "$TMP/musl/stratum" >"$TMP/musl.log" 2>&1; then
		cp "$TMP/musl/stratum" "$TMP/stripped" && strip "$TMP/stripped"
		echo "bench pool_static_size musl_static_bytes=$(wc -c \
		    <"$TMP/musl/stratum") stripped_bytes=$(wc -c \
		    <"$TMP/stripped") text_bytes=$(size "$TMP/musl/stratum" |
		    awk 'NR == 2 { print $1 }')"
	else
		say "static musl build failed:"; tail -5 "$TMP/musl.log" >&2
	fi
fi
