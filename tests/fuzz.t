#!/bin/sh
# Fuzzes name checking and path mapping for a bounded time (libFuzzer,
# with AddressSanitizer and UndefinedBehaviorSanitizer). Built by
# `make check` when clang is present.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
fuzzer="$build/tests/fuzz_name"
seconds=${SHMSHIM_FUZZ_SECONDS:-15}

if [ ! -x "$fuzzer" ]; then
	echo "1..0 # SKIP clang with libFuzzer is not installed, so the fuzzer was not built"
	exit 0
fi
corpus="$root/corpus"
mkdir -p "$corpus"
printf '\000/foo' > "$corpus/strict"
printf '\001//foo' > "$corpus/glibc"
printf '\004/0123456789abcdef' > "$corpus/hashed"
log="$root/fuzz.log"
"$fuzzer" -max_total_time="$seconds" -max_len=600 -print_final_stats=1 \
	-artifact_prefix="$root/" "$corpus" > "$log" 2>&1
status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
ok $status "fuzzing name checks and mapping for ${seconds}s found nothing (${runs:-?} inputs)"
if [ $status -ne 0 ]; then
	tail -30 "$log" | sed 's/^/# /'
fi
check "... and really ran (over 1000 inputs)" test "${runs:-0}" -gt 1000
done_testing
