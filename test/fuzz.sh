#!/bin/sh
# fuzz.sh SECONDS - the libFuzzer harnesses of test/fuzz/, one after another.
#
# Each harness is built with clang (ASan + UBSan + libFuzzer), replays every
# file in test/fuzz/regress/NAME/ (crashers found before), then fuzzes for
# SECONDS on build/fuzz/NAME/corpus, a working copy of test/fuzz/corpus/NAME/
# that keeps what it finds between runs (the repository's seeds stay small).
# SECONDS = 0 only replays the regression files and the corpus.  A harness
# passes when libFuzzer exits 0; a crash, leak, timeout or broken invariant
# leaves its input in build/fuzz/NAME/ and the log in build/fuzz/NAME.log.
#
# Environment: CLANG (default clang); FUZZ_ONLY="json http" to run some.
# Prints one line per harness and "fuzz: N passed, N failed"; exits non-zero
# on any failure.
cd "$(dirname "$0")/.." || exit 1
secs=${1:-60}
case $secs in
''|*[!0-9]*) echo "usage: sh test/fuzz.sh SECONDS" >&2; exit 2 ;;
esac
cc=${CLANG:-clang}
out=build/fuzz
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=all -std=c11 -D_POSIX_C_SOURCE=200809L
	-D_FILE_OFFSET_BITS=64 -Wall -Wextra -Wpedantic -Werror -I."
names=${FUZZ_ONLY:-json ini addr http stratum}
passed=0
failed=0
mkdir -p "$out" || exit 1

# Project sources each harness links; a harness that #includes a module's
# .c (for its static functions) does not link that one.
sources() {
	case $1 in
	json) echo json.c ;;
	ini) echo ini.c log.c ;;			# includes conf.c
	addr) echo addr.c sha256.c ;;
	http) echo json.c log.c job.c sha256.c ;;	# includes rpc.c
	stratum) ls *.c | grep -v '^stratum\.c$' ;;	# includes stratum.c
	esac
}

max_len() {
	case $1 in
	ini) echo 8192 ;;
	addr) echo 128 ;;
	*) echo 65536 ;;
	esac
}

# "N runs, N exec/s, cov N, ft N, corpus N" from libFuzzer's last status.
figures() {
	awk '/^#[0-9]+/ { last = $0 }
	    /stat::number_of_executed_units/ { runs = $2 }
	    /stat::average_exec_per_sec/ { eps = $2 }
	    END {
		n = split(last, f, /[ \t]+/)
		for (i = 1; i < n; i++) {
			if (f[i] == "cov:") cov = f[i + 1]
			if (f[i] == "ft:") ft = f[i + 1]
			if (f[i] == "corp:") corp = f[i + 1]
		}
		sub(/\/.*/, "", corp)
		printf "%s runs, %s exec/s, cov %s, ft %s, corpus %s",
		    runs, eps, cov, ft, corp
	    }' "$1"
}

fail() {
	echo "fuzz_$1: FAILED ($2)"
	failed=$((failed + 1))
}

for n in $names; do
	bin=$out/fuzz_$n
	log=$out/$n.log
	if ! $cc $flags -o "$bin" "test/fuzz/fuzz_$n.c" $(sources "$n") -lm \
	    > "$out/$n.build.log" 2>&1; then
		cat "$out/$n.build.log"
		fail "$n" "build"
		continue
	fi
	mkdir -p "$out/$n/corpus"
	[ -d "test/fuzz/corpus/$n" ] &&
	    cp -f "test/fuzz/corpus/$n"/* "$out/$n/corpus/"
	regress=$(find "test/fuzz/regress/$n" -type f 2>/dev/null | sort)
	: > "$log"
	if [ -n "$regress" ] &&
	    ! "$bin" -timeout=25 $regress > "$log" 2>&1; then
		grep -E 'Running:|SUMMARY|FUZZ_CHECK|ERROR' "$log" | tail -n 8
		fail "$n" "a regression input fails, log in $log"
		continue
	fi
	if [ "$secs" -eq 0 ]; then
		run="-runs=0"
	else
		run="-max_total_time=$secs"
	fi
	"$bin" $run -max_len=$(max_len "$n") -timeout=25 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$out/$n/" \
	    "$out/$n/corpus" >> "$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		grep -E 'SUMMARY|FUZZ_CHECK|ERROR|Test unit written' "$log" |
		    tail -n 8
		fail "$n" "exit $rc, log in $log"
		continue
	fi
	echo "fuzz_$n: ok, $(figures "$log")"
	passed=$((passed + 1))
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
