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
done_testing
