#!/bin/sh
# node_smoke.sh - check that the regtest node of test/node.sh installs,
# starts, mines and stops.  Runs from anywhere; the node gets a temp dir and
# ports derived from our pid (so parallel runs and a default-port node do
# not collide), and is stopped on every exit path.
set -u
here=$(cd "$(dirname "$0")" && pwd)
node_sh="$here/node.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/node_smoke.XXXXXX") || exit 1
base=$((40000 + ($$ % 2000) * 4))
NODE_RPC_PORT=$base
NODE_WALLET_PORT=$((base + 2))
NODE_RPC_TIMEOUT=20
export NODE_RPC_PORT NODE_WALLET_PORT NODE_RPC_TIMEOUT

passed=0; failed=0
cleanup() {
	sh "$node_sh" stop "$dir"
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

check() {	# check NAME COMMAND...: count a pass or a failure
	name=$1; shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); echo "FAIL: $name" >&2
		return 1
	fi
}

matches() {	# matches STRING ERE
	printf '%s\n' "$1" | grep -Eq "$2"
}

finish() {
	echo "node_smoke: $passed passed, $failed failed"
	[ $failed -eq 0 ]
	exit
}

check install sh "$node_sh" install || finish
check start sh "$node_sh" start "$dir" "$base" || finish
check pidfile test -s "$dir/node.pid"

info=$(sh "$node_sh" rpc getblockchaininfo)
check chain-regtest matches "$info" '"chain":"regtest"'
before=$(sh "$node_sh" rpc getblockcount)
# getaccountaddress: bcoin 1.0.2's getnewaddress prints a mainnet address.
addr=$(sh "$node_sh" wallet getaccountaddress '["default"]')
check regtest-address matches "$addr" '^R[1-9A-HJ-NP-Za-km-z]{33}$'
hashes=$(sh "$node_sh" rpc generatetoaddress "[1,\"$addr\"]")
check one-hash matches "$hashes" '^\["[0-9a-f]{64}"\]$'
after=$(sh "$node_sh" rpc getblockcount)
check count-rose test "${after:-x}" = "$((${before:-0} + 1))"
best=$(sh "$node_sh" rpc getbestblockhash)
check best-is-mined test "[\"$best\"]" = "$hashes"
check rpc-error-exit sh -c '! sh "$1" rpc nosuchmethod 2>/dev/null' _ "$node_sh"

check stop sh "$node_sh" stop "$dir"
check pidfile-gone test ! -e "$dir/node.pid"
check rpc-gone sh -c '! sh "$1" rpc getblockcount 2>/dev/null' _ "$node_sh"
finish
