#!/bin/sh
# Every mutation of tests/mutants still applies to the code as it is: its
# text matches exactly once, and the tests it names exist. Code moves on,
# and a mutation that no longer applies checks nothing (make mutants, too
# slow for make check, would fail on it).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1

out=$(python3 tests/mutants --check 2>&1)
ok $? "every mutation in tests/mutants applies exactly once"
echo "$out" | sed 's/^/# /'
done_testing
