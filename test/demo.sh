#!/bin/sh
# demo.sh BUILD_DIR - the pool on a real regtest node, in one command:
# starts bcoin (regtest, in memory), the pool, and the test miner, which
# mines until it found DEMO_BLOCKS blocks (default 5); prints each block the
# node accepted, then stops everything.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${1:-build}
blocks=${DEMO_BLOCKS:-5}
dir=$(mktemp -d "${TMPDIR:-/tmp}/stratum-demo.XXXXXX")
pool_pid=""
export NODE_PASS=demo

cleanup() {
	[ -n "$pool_pid" ] && kill "$pool_pid" 2>/dev/null
	sh test/node.sh stop "$dir/node" >/dev/null 2>&1
	[ -n "$pool_pid" ] && wait "$pool_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "== installing the regtest node (bcoin 1.0.2, npm) if needed"
sh test/node.sh install || exit 1
echo "== starting bcoin in regtest"
sh test/node.sh start "$dir/node" auto || exit 1
. "$dir/node/node.env"
export NODE_RPC_PORT NODE_WALLET_PORT
pool_port=$(sh test/node.sh freeport 3333) || exit 1
addr=$(sh test/node.sh wallet getaccountaddress '["default"]') || exit 1
echo "   payout address: $addr"
cat > "$dir/setting.ini" <<INI
[bitcoin.conf]
rpcuser = demo
rpcpassword = demo
host = http://127.0.0.1
port = $NODE_RPC_PORT

[difficulty]
start_difficulty = 0.0001
min_difficulty = 0.000001

[address]
btc_address = $addr

[stratum]
host = 127.0.0.1
port = $pool_port
data_dir = $dir/data
INI
echo "== starting the pool on port $pool_port: ./stratum -c $dir/setting.ini"
./stratum -c "$dir/setting.ini" > "$dir/pool.log" 2>&1 &
pool_pid=$!
i=0
until grep -q "new block" "$dir/pool.log"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pool_pid" 2>/dev/null; then
		cat "$dir/pool.log"; echo "pool did not start"; exit 1
	fi
	sleep 0.1
done
h0=$(sh test/node.sh rpc getblockcount)
echo "== mining with the test miner until $blocks blocks are found (60 s at most)"
"$build/miner" -o 127.0.0.1:$pool_port -u "$addr.demo" -n "$blocks" -t 60 |
	grep -E "subscribed|authorized|block|summary"
sleep 1
h1=$(sh test/node.sh rpc getblockcount)
echo "== blocks the node accepted: $((h1 - h0)) (height $h0 -> $h1)"
h=$((h0 + 1))
while [ $h -le "$h1" ]; do
	echo "   height $h: $(sh test/node.sh rpc getblockhash "[$h]")"
	h=$((h + 1))
done
echo "== the pool's log about them:"
grep -E "BLOCK|new block" "$dir/pool.log" | tail -n $((3 * blocks + 2))
[ "$h1" -gt "$h0" ]
