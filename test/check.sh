#!/bin/sh
# check.sh - the whole test suite: unit tests (native, ASan+UBSan, and
# cross-built for aarch64, armhf and big-endian MIPS under qemu-user), then
# a short libFuzzer pass of each harness, and the integration tests against
# a real regtest node (the pool also under ASan+UBSan and valgrind).  Ends
# with one line "N passed, N failed" summing every part; exits non-zero on
# any failure.
cd "$(dirname "$0")/.." || exit 1
mkdir -p build
log=build/check.log
: > "$log"
status=0
for target in ${CHECK_TARGETS:-test asan cross fuzz integration integration-asan integration-valgrind}; do
	echo "== make $target"
	# CI's fuzz pass is short: 10 s per harness (make fuzz alone: 60 s).
	make -s "$target" FUZZ_SECONDS=10 > build/part.log 2>&1
	rc=$?
	cat build/part.log
	cat build/part.log >> "$log"
	if [ $rc -ne 0 ]; then
		echo "== make $target FAILED (exit $rc)"
		status=1
	fi
done
# Sum the per-binary lines ("name: N passed, N failed"), not the totals.
lines=$(grep -E '^[a-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' "$log")
passed=$(printf '%s\n' "$lines" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p' |
	awk '{s += $1} END {print s + 0}')
failed=$(printf '%s\n' "$lines" | sed -n 's/.* \([0-9]*\) failed$/\1/p' |
	awk '{s += $1} END {print s + 0}')
[ $status -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ $status -eq 0 ] && [ "$failed" -eq 0 ]
