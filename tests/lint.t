#!/bin/sh
# Static analysis: cppcheck and clang-tidy (checks in .clang-tidy) on the
# shim and shmclean, and shellcheck on the scripts, must all be silent.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1

if command -v cppcheck >/dev/null 2>&1; then
	out=$(cppcheck --enable=warning,style,performance,portability \
		--error-exitcode=1 --inline-suppr --quiet --std=c11 \
		-D_GNU_SOURCE --suppress=missingIncludeSystem -Ishim shim/ tools/ 2>&1)
	ok $? "cppcheck finds nothing in shim/ and tools/"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
else
	skip 1 "cppcheck is not installed"
fi

if command -v clang-tidy >/dev/null 2>&1; then
	out=$(clang-tidy --quiet shim/*.c tools/*.c -- -std=c11 -Ishim 2>&1)
	status=$?
	ok $status "clang-tidy finds nothing in shim/ and tools/"
	[ $status -ne 0 ] && echo "$out" | grep -v 'warnings generated' | sed 's/^/# /'
else
	skip 1 "clang-tidy is not installed"
fi
if command -v shellcheck >/dev/null 2>&1; then
	# Every shell script: the tests written in sh, and the helpers.
	scripts=$(grep -l '^#!/bin/sh' tests/*.t tests/last/*.t)
	# shellcheck disable=SC2086 # one word per script
	out=$(shellcheck -x .ci/run tests/run tests/limit tests/*.sh packaging/lambda/shmshim-exec packaging/debian/mkdeb $scripts 2>&1)
	ok $? "shellcheck finds nothing in the shell scripts"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
else
	skip 1 "shellcheck is not installed"
fi
# Every function the library stands in for is called on every path a
# program opens or stats, on whatever stack the calling thread has (musl
# allows 2 KiB): its own frame stays small, and the work on a /dev/shm
# path happens in a function of its own (BENEATH in shim/devshm.h).
su=$(mktemp -d "${TMPDIR:-/tmp}/shmshim-su.XXXXXX")
for f in devshm devdir; do
	${CC:-cc} -std=c11 -O2 -fPIC -fvisibility=hidden -fstack-usage -Ishim \
		-c "shim/$f.c" -o "$su/$f.o" -dumpdir "$su/" -dumpbase "$f.c" || echo "# no build of $f.c"
done
exported=$(sed -n 's/^EXPORT [^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' shim/devshm.c shim/devdir.c | sort -u)
big=$(cat "$su"/*.su 2>/dev/null | awk -F'\t' -v names="$exported" '
	BEGIN { n = split(names, v, "\n"); for (i = 1; i <= n; i++) want[v[i]] = 1 }
	{ k = split($1, p, ":"); if (want[p[k]]) { seen++; if ($2 + 0 > 256) print p[k], $2 } }
	END { if (seen < 40) print "only", seen + 0, "interposed functions measured" }')
ok "$([ -z "$big" ] && echo 0 || echo 1)" \
	"every interposed function's own frame is at most 256 bytes (the /dev/shm work is elsewhere)"
[ -n "$big" ] && echo "$big" | sed 's/^/# /'
rm -rf "$su"
done_testing
