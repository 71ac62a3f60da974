#!/bin/sh
# run_unit.sh O EXEC VECTORS TEST... - run each unit test binary (through
# EXEC, e.g. "qemu-mips -L /usr/mips-linux-gnu"), show its own result line,
# and finish with the sum as "N passed, N failed".  Exit status: 0 only when
# every test binary exited 0 and printed its result line.
o=$1; exec_=$2; VECTORS=$3; shift 3
export VECTORS
passed=0; failed=0; bad=0
for t in "$@"; do
	out=$($exec_ "./$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[a-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 20
		echo "$t: no result line (exit $rc)"
		bad=$((bad + 1)); continue
	fi
	[ $rc -ne 0 ] && printf '%s\n' "$out" | grep -v -F "$line" | tail -n 40
	echo "$line"
	p=$(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed$/\1/')
	passed=$((passed + p)); failed=$((failed + f))
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && bad=$((bad + 1))
done
failed=$((failed + bad))
echo "unit($o): $passed passed, $failed failed"
[ $failed -eq 0 ]
