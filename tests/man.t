#!/bin/sh
# The man pages render without warnings, and document every option and
# environment variable that the tools and the library have.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1

if ! command -v groff >/dev/null 2>&1; then
	echo "1..0 # SKIP groff is not installed"
	exit 0
fi
for page in man/shmshim.7 man/shmshim.1 man/shmclean.1; do
	out=$(groff -man -ww -z "$page" 2>&1)
	ok $? "$page renders"
	check "... without a warning" test -z "$out"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
done

# Every long option in a program's --help is in its page (groff writes \-
# for -). Prints the options that are missing.
missing_options() { # missing_options PROGRAM PAGE
	for opt in $("$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$2" || printf ' %s' "$opt"
	done
}
missing=$(missing_options "$build"/shmclean man/shmclean.1)
check "shmclean(1) documents every option of shmclean --help${missing:+ (missing:$missing)}" \
	test -z "$missing"
missing=$(missing_options "$build"/shmshim man/shmshim.1)
check "shmshim(1) documents every option of shmshim --help${missing:+ (missing:$missing)}" \
	test -z "$missing"
missing=""
# shellcheck disable=SC2013 # the names are single words
for var in $(grep -oh 'SHMSHIM_[A-Z_]*' shim/*.c | sort -u); do
	grep -q "$var" man/shmshim.7 || missing="$missing $var"
	grep -q "$var" README.md || missing="$missing $var(README)"
done
check "shmshim(7) and the README document every variable the library reads${missing:+ (missing:$missing)}" \
	test -z "$missing"
done_testing
