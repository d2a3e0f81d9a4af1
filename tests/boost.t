#!/bin/sh
# Boost.Interprocess (header-only, Debian's libboost-dev) under the shim: a
# parent and a child share a counter guarded by an interprocess_mutex in the
# segment; the total must be exact and the object a file in the root.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
prog="$build/tests/boost_counter"

if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP Boost.Interprocess is not installed (libboost-dev, g++), so the client was not built"
	exit 0
fi
out=$(LD_PRELOAD="$lib" "$prog" 20000)
ok $? "the Boost client runs under the shim"
check "parent and child each add 20000 under the interprocess_mutex: total 40000" \
	test "$(echo "$out" | sed -n 's/^total //p')" = 40000
check "the shared_memory_object was <root>/.SHMDshmshim_boost" \
	test "$(echo "$out" | sed -n 's/^in_root //p')" = yes
check "shared_memory_object::remove left the root empty" root_empty
done_testing
