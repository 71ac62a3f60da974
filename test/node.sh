#!/bin/sh
# node.sh - the bcoin regtest node used by the integration tests and the demo.
#
#   test/node.sh install                 npm ci (pinned bcoin), if needed
#   test/node.sh start DIR [PORT_BASE]   start in the background, wait for RPC
#   test/node.sh freeport [FROM]         print a free loopback TCP port >= FROM
#   test/node.sh stop DIR                SIGTERM, then SIGKILL if it lingers
#   test/node.sh rpc METHOD [JSON]       node RPC call, prints the result
#   test/node.sh wallet METHOD [JSON]    wallet RPC call, prints the result
#
# start: the node RPC listens on 127.0.0.1:PORT_BASE (default 48332), the
# wallet RPC on PORT_BASE+2, and P2P stays off.  PORT_BASE "auto" takes the
# first base from 20000 + 4 * (pid % 2000) on where both ports are free; it
# stays below Linux's ephemeral range (32768-60999), where any outgoing
# connection on the machine may hold a port.  It writes DIR/node.pid,
# DIR/node.log and DIR/node.env (NODE_RPC_PORT=..., NODE_WALLET_PORT=...,
# NODE_PASS=...; "." it to talk to that node).  Chain data is in memory only.
#
# rpc/wallet: port from NODE_RPC_PORT / NODE_WALLET_PORT, API key (basic-auth
# password; the user name is ignored) from NODE_PASS (default PASS), reply
# deadline NODE_RPC_TIMEOUT seconds (default 30).  JSON is a params array,
# default [].  A string result is printed bare (like bitcoin-cli), anything
# else as one line of JSON.  Exit 0 on a result, 1 on a JSON-RPC error
# (printed to stderr), 2 on a transport failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
pkg="$here/node"
: "${NODE_PASS:=PASS}"
: "${NODE_START_TIMEOUT:=30}"	# seconds until RPC must answer
: "${NODE_STOP_TIMEOUT:=10}"	# seconds between SIGTERM and SIGKILL
: "${NODE_LOG_LEVEL:=info}"	# bcoin's own default is debug (verbose)

die() { echo "node.sh: $*" >&2; exit 1; }

# One JSON-RPC 1.0 call over HTTP with node's own http module, so curl is
# not needed: node is there anyway for bcoin.
call() {
	port=$1; method=$2; params=${3:-[]}
	node -e '
const http = require("http");
const [port, method, params, pass, secs] = process.argv.slice(1);
let p;
try { p = JSON.parse(params); } catch (e) {
	console.error("node.sh: params are not JSON: " + params); process.exit(2);
}
const body = JSON.stringify({ method: method, params: p, id: 1 });
const req = http.request({
	host: "127.0.0.1", port: Number(port), path: "/", method: "POST",
	auth: "x:" + pass, timeout: Number(secs) * 1000,
	headers: { "Content-Type": "application/json",
		"Content-Length": Buffer.byteLength(body) }
}, (res) => {
	let data = "";
	res.setEncoding("utf8");
	res.on("data", (c) => { data += c; });
	res.on("end", () => {
		let r;
		try { r = JSON.parse(data); } catch (e) {
			console.error("node.sh: HTTP " + res.statusCode + ": " + data);
			process.exit(2);
		}
		if (r.error) {
			process.stderr.write(JSON.stringify(r.error) + "\n",
				() => process.exit(1));
			return;
		}
		const out = r.result;
		process.stdout.write((typeof out === "string" ? out :
			JSON.stringify(out)) + "\n", () => process.exit(0));
	});
});
req.on("timeout", () => {
	console.error("node.sh: no reply within " + secs + " s"); process.exit(2);
});
req.on("error", (e) => { console.error("node.sh: " + e.message); process.exit(2); });
req.end(body);
' "$port" "$method" "$params" "$NODE_PASS" "${NODE_RPC_TIMEOUT:-30}"
}

installed() {
	[ -f "$pkg/node_modules/bcoin/package.json" ] &&
		grep -q '"version": "1.0.2"' "$pkg/node_modules/bcoin/package.json"
}

do_install() {
	installed && return 0
	command -v npm >/dev/null 2>&1 || die "npm not found"
	# The lock pins every transitive version; "ci" installs exactly that.
	# --ignore-scripts: no native builds; bcoin runs on its pure-JS backends.
	how=install
	[ -f "$pkg/package-lock.json" ] && how=ci
	(cd "$pkg" && timeout 300 npm $how --ignore-scripts --no-audit \
		--no-fund --loglevel=error >/dev/null) || die "npm $how failed"
	installed || die "bcoin 1.0.2 missing after npm install"
}

# Is pid $1 alive?  A zombie is not: the node is re-parented to init when
# "start" returns, and this init may take seconds to reap it.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ -r "/proc/$1/stat" ] || return 0
	[ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

# Is the pid in DIR/node.pid a running bcoin-node (not a recycled pid)?
running() {
	[ -f "$1/node.pid" ] || return 1
	pid=$(cat "$1/node.pid")
	alive "$pid" || return 1
	[ -r "/proc/$pid/cmdline" ] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q bcoin
}

port_free() {
	node -e '
const s = require("net").createServer();
s.once("error", () => process.exit(1));
s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close(() => process.exit(0)));
' "$1"
}

# The first port >= $1 (below 32768) that is free, within 50 tries.
free_from() {
	p=$1; n=0
	while [ $n -lt 50 ] && [ "$p" -lt 32768 ]; do
		port_free "$p" && { echo "$p"; return 0; }
		p=$((p + 1)); n=$((n + 1))
	done
	die "no free port from $1"
}

do_start() {
	dir=${1:?start DIR [PORT_BASE]}; base=${2:-48332}
	installed || die "not installed: run test/node.sh install"
	mkdir -p "$dir" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	running "$dir" && die "already running (pid $(cat "$dir/node.pid"))"
	if [ "$base" = auto ]; then
		base=$((20000 + 4 * ($$ % 2000))); n=0
		until port_free "$base" && port_free $((base + 2)); do
			n=$((n + 1)); [ $n -lt 50 ] || die "no free port pair found"
			base=$((base + 4)); [ $base -lt 32760 ] || base=20000
		done
	fi
	wport=$((base + 2))
	# Another node on these ports would answer our readiness probe.
	if ! port_free "$base" || ! port_free "$wport"; then
		die "port $base or $wport on 127.0.0.1 is in use"
	fi
	printf 'NODE_RPC_PORT=%s\nNODE_WALLET_PORT=%s\nNODE_PASS=%s\n' \
		"$base" "$wport" "$NODE_PASS" >"$dir/node.env"
	# NODE_BACKEND=js: bcrypto's pure-JS code, as no native addon is built.
	NODE_BACKEND=js node "$pkg/node_modules/.bin/bcoin-node" \
		--network=regtest --memory=true --workers=false --listen=false \
		--prefix="$dir" --log-level="$NODE_LOG_LEVEL" \
		--http-host=127.0.0.1 --http-port="$base" \
		--wallet-http-host=127.0.0.1 --wallet-http-port="$wport" \
		--api-key="$NODE_PASS" --wallet-api-key="$NODE_PASS" \
		</dev/null >"$dir/node.log" 2>&1 &
	echo $! >"$dir/node.pid"
	end=$(($(date +%s) + NODE_START_TIMEOUT))
	while [ "$(date +%s)" -le $end ]; do
		if ! running "$dir"; then
			tail -n 30 "$dir/node.log" >&2
			rm -f "$dir/node.pid"
			die "bcoin-node exited during start-up"
		fi
		if grep -q "Node HTTP server listening on 127.0.0.1 (port=$base)" \
			"$dir/node.log" &&
			NODE_RPC_TIMEOUT=2 call "$base" getblockchaininfo >/dev/null 2>&1 &&
			NODE_RPC_TIMEOUT=2 call "$wport" getwalletinfo >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	tail -n 30 "$dir/node.log" >&2
	do_stop "$dir"
	die "RPC did not answer within $NODE_START_TIMEOUT s"
}

do_stop() {
	dir=${1:?stop DIR}
	if ! running "$dir"; then
		rm -f "$dir/node.pid"
		return 0
	fi
	pid=$(cat "$dir/node.pid")
	kill -TERM "$pid" 2>/dev/null
	i=0
	while alive "$pid" && [ $i -lt $((NODE_STOP_TIMEOUT * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	if alive "$pid"; then
		echo "node.sh: pid $pid ignored SIGTERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null
		sleep 0.2
	fi
	rm -f "$dir/node.pid"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
install) do_install ;;
start) do_start "$@" ;;
stop) do_stop "$@" ;;
freeport) free_from "${1:-20000}" ;;
rpc) [ $# -ge 1 ] || die "rpc METHOD [JSON_PARAMS]"
	call "${NODE_RPC_PORT:-48332}" "$@" ;;
wallet) [ $# -ge 1 ] || die "wallet METHOD [JSON_PARAMS]"
	call "${NODE_WALLET_PORT:-48334}" "$@" ;;
*) sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
