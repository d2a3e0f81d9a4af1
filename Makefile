# shmshim - POSIX named shared memory as plain files, loaded with LD_PRELOAD.

CC      ?= cc
CLANG   ?= clang
PYTHON  ?= /usr/bin/python3
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror
SHIM_CFLAGS = $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Every output goes under BUILDDIR, so that builds for several platforms
# live side by side (make BUILDDIR=build-aarch64 CC=aarch64-linux-gnu-gcc).
# The tests find the build under test through it: make check exports it.
BUILDDIR ?= build
B = $(BUILDDIR)
export BUILDDIR
SHIM_SRC = shim/api.c shim/config.c shim/debug.c shim/devdir.c shim/devpath.c shim/devshm.c shim/errname.c shim/lock.c shim/md5.c shim/name.c \
           shim/next.c shim/notice.c shim/object.c shim/path.c shim/place.c shim/sem.c shim/semreg.c shim/shm.c \
           shim/sysv.c shim/sysvmaps.c shim/sysvseg.c
SHIM_HDR = $(wildcard shim/*.h)
SHIM_OBJ = $(SHIM_SRC:shim/%.c=$(B)/obj/%.o)
SAN_OBJ  = $(SHIM_SRC:shim/%.c=$(B)/san/%.o)

# Tests that link only the pure parts of the shim.
UNIT_TESTS  = t_md5 t_name
# Tests of the public API: run with the library preloaded, with the shim's
# objects linked in under the sanitizers, and under valgrind.
API_TESTS   = t_shm t_lock t_race t_fail t_users t_sem t_hostile t_sysv
# Helper programs the scripts run under the preload.
HELPERS     = symver_open shm_tool parity nosysv

# The one place the version is set: VERSION. The programs' --version, the
# wheel, the Debian package, the Lambda layers and the source tarball all
# take it from here.
VERSION := $(shell cat VERSION)
TOOL_SRC = tools/clean.c tools/inventory.c tools/nosync.c tools/oldstart.c tools/report.c \
           tools/shmclean.c tools/users.c
# shmclean is built from the shim's own sources (not its public API), so the
# name rules, the layout and the lock protocol exist once.
TOOL_SHIM_OBJ = $(filter-out $(B)/obj/api.o $(B)/obj/devdir.o $(B)/obj/devpath.o $(B)/obj/devshm.o $(B)/obj/next.o $(B)/obj/notice.o $(B)/obj/shm.o \
	$(B)/obj/sem.o $(B)/obj/semreg.o $(B)/obj/sysv.o,$(SHIM_OBJ))

# Where make lambda-layer, wheel, deb and dist put what they make.
DISTDIR ?= dist

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
MANDIR  ?= $(PREFIX)/share/man
MAN1     = man/shmshim.1 man/shmclean.1
MAN7     = man/shmshim.7

# A build whose compiler cannot compile (a cross compiler or musl-gcc that
# is not installed, or without its C library) stops here and names the
# Debian packages to install. One run of the compiler also tells glibc
# from other C libraries (below).
CC_MACROS := $(shell $(CC) -dM -E -include stdio.h -x c /dev/null 2>/dev/null)
cc_packages = $(if $(findstring aarch64-linux-gnu,$(1)),gcc-aarch64-linux-gnu libc6-dev-arm64-cross,$\
	$(if $(findstring musl,$(1)),musl musl-dev musl-tools,$\
	$(if $(findstring clang,$(1)),clang libc6-dev,gcc libc6-dev)))
ifeq ($(CC_MACROS),)
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
$(error cannot compile C with '$(CC)': it or its C library is not installed (on Debian: apt-get install $(call cc_packages,$(CC))))
endif
endif

.PHONY: all check check-build api-tests mutants clean bench install uninstall FORCE \
	lambda-layer layer dist deb wheel one-wheel
all: $(B)/libshmshim.so $(B)/shmclean $(B)/shmshim

$(B)/obj/%.o: shim/%.c $(SHIM_HDR) | $(B)/obj
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(B)/san/%.o: shim/%.c $(SHIM_HDR) | $(B)/san
	$(CC) $(SHIM_CFLAGS) $(SAN) -O1 -c $< -o $@

# Against glibc the library also names libpthread and libdl, where glibc
# before 2.34 keeps the old versions of sem_init, pthread_once and dlsym
# (shim/oldsym.h).
GLIBC := $(findstring __GLIBC__,$(CC_MACROS))
PTHREAD_NEEDED = -Wl,--no-as-needed -l:libpthread.so.0 -l:libdl.so.2 -Wl,--as-needed
SHIM_LIBS = $(if $(GLIBC),$(PTHREAD_NEEDED))

$(B)/libshmshim.so: $(SHIM_OBJ)
	$(CC) -shared $(CFLAGS) -Wl,-z,defs -Wl,--as-needed -o $@ $(SHIM_OBJ) $(SHIM_LIBS)

# Against glibc, shmclean starts through the first __libc_start_main
# (tools/oldstart.c), so that it runs on glibc 2.17 and newer.
OLD_START = -Wl,--wrap=__libc_start_main
TOOL_LIBS = $(if $(GLIBC),$(OLD_START))

$(B)/shmclean: $(TOOL_SRC) $(wildcard tools/*.h) $(TOOL_SHIM_OBJ) VERSION
	$(CC) $(WARN) $(CFLAGS) -Ishim -DSHMSHIM_VERSION='"$(VERSION)"' -o $@ \
	    $(TOOL_SRC) $(TOOL_SHIM_OBJ) $(TOOL_LIBS)

# The launcher (tools/shmshim.c) finds the library at SHMSHIM_LIBREL
# relative to its own directory, else in SHMSHIM_LIBDIR. It is linked
# statically where the C library allows (libc.a; Debian's libc6-dev has
# it): no loader, no shared libraries to map, and whatever LD_PRELOAD holds
# is not loaded into it, so it starts in a fraction of a dynamic program's
# time. Without libc.a it is linked dynamically, and make says so.
LAUNCHER_CFLAGS = $(WARN) $(CFLAGS) -DSHMSHIM_VERSION='"$(VERSION)"' -DSHMSHIM_LIBDIR='"$(LIBDIR)"'
LAUNCHER_LINK = { $(CC) $(LAUNCHER_CFLAGS) -DSHMSHIM_LIBREL="\"$$librel\"" -static -o $@ $< 2>/dev/null || \
	{ echo "note: no static C library; $@ is linked dynamically (slower to start)" && \
	  $(CC) $(LAUNCHER_CFLAGS) -DSHMSHIM_LIBREL="\"$$librel\"" -o $@ $<; }; }

# For use from the build tree: the library sits beside it.
$(B)/shmshim: tools/shmshim.c VERSION | $(B)/obj
	librel=. && $(LAUNCHER_LINK)

# As installed: the library's place relative to BINDIR, so that it works
# in a DESTDIR staging tree too, and LIBDIR as a fallback.
$(B)/shmshim.installed: tools/shmshim.c FORCE | $(B)/obj
	librel=$$(realpath -m --relative-to='$(BINDIR)' '$(LIBDIR)') && $(LAUNCHER_LINK)

FORCE:

# The paths are quoted, so that a DESTDIR with a space stages correctly.
install: all $(B)/shmshim.installed
	install -d '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(BINDIR)' \
	    '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(MANDIR)/man7'
	install -m 0755 $(B)/libshmshim.so '$(DESTDIR)$(LIBDIR)/libshmshim.so'
	install -m 0755 $(B)/shmclean '$(DESTDIR)$(BINDIR)/shmclean'
	install -m 0755 $(B)/shmshim.installed '$(DESTDIR)$(BINDIR)/shmshim'
	for m in $(MAN1) $(MAN7); do \
	    sed 's/@VERSION@/$(VERSION)/' "$$m" >'$(DESTDIR)$(MANDIR)/'"man$${m##*.}/$${m##*/}" && \
	    chmod 0644 '$(DESTDIR)$(MANDIR)/'"man$${m##*.}/$${m##*/}" || exit 1; done

uninstall:
	rm -f '$(DESTDIR)$(LIBDIR)/libshmshim.so' '$(DESTDIR)$(BINDIR)/shmclean' \
	    '$(DESTDIR)$(BINDIR)/shmshim' \
	    $(foreach f,$(notdir $(MAN1)),'$(DESTDIR)$(MANDIR)/man1/$(f)') \
	    $(foreach f,$(notdir $(MAN7)),'$(DESTDIR)$(MANDIR)/man7/$(f)')

$(B)/obj $(B)/san $(B)/tests:
	mkdir -p $@

TEST_CFLAGS = $(WARN) -Wno-format-truncation $(CFLAGS) -Ishim -Itests

$(B)/tests/%: tests/%.c tests/tap.h $(SHIM_OBJ) | $(B)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(SHIM_OBJ)

# API tests for the preload: not linked with the shim, only with its table
# of errno names (not every C library has strerrorname_np).
$(addprefix $(B)/tests/,$(API_TESTS)): $(B)/tests/%: tests/%.c tests/tap.h tests/holder.h tests/calls.h tests/sysctl.h $(B)/obj/errname.o | $(B)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(B)/obj/errname.o -lpthread -lrt

# The same tests with the shim's objects linked in, under the sanitizers.
$(B)/tests/%-san: tests/%.c tests/tap.h tests/holder.h tests/calls.h tests/sysctl.h $(SAN_OBJ) | $(B)/tests
	$(CC) $(TEST_CFLAGS) $(SAN) -O1 -o $@ $< $(SAN_OBJ) -lpthread -lrt

# A program bound to the old versioned symbols, as if built against an old
# librt and libpthread: linked against stand-ins that have them.
$(B)/tests/oldrt/librt.so: tests/old_librt.c tests/old_librt.map
	mkdir -p $(B)/tests/oldrt
	$(CC) $(WARN) -shared -fPIC -Wl,-soname,librt.so.1 \
	    -Wl,--version-script=tests/old_librt.map -o $@ tests/old_librt.c

$(B)/tests/shm_tool: tests/shm_tool.c | $(B)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< -lrt

# Runs a program where the System V shared memory calls fail with ENOSYS
# (a seccomp filter), for tests/sysv-programs.t.
$(B)/tests/nosysv: tests/nosysv.c | $(B)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Runs natively as well as under the preload: never linked with the shim.
$(B)/tests/parity: tests/parity.c $(B)/obj/errname.o | $(B)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(B)/obj/errname.o -lrt -lpthread

$(B)/tests/oldrt/libpthread.so: tests/old_libpthread.c tests/old_libpthread.map
	mkdir -p $(B)/tests/oldrt
	$(CC) $(WARN) -shared -fPIC -Wl,-soname,libpthread.so.0 \
	    -Wl,--version-script=tests/old_libpthread.map -o $@ tests/old_libpthread.c

$(B)/tests/symver_open: tests/symver_open.c $(B)/tests/oldrt/librt.so $(B)/tests/oldrt/libpthread.so
	$(CC) $(TEST_CFLAGS) -o $@ $< -L$(B)/tests/oldrt -Wl,--no-as-needed -lrt -lpthread

# Boost.Interprocess client, built when the headers are there.
$(B)/tests/boost_counter: tests/boost_counter.cpp | $(B)/tests
	$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -o $@ $< -pthread -lrt

# A clock for the shmclean tests: time() as $$FAKE_NOW says, preloaded.
$(B)/tests/fake_now.so: tests/fake_now.c | $(B)/tests
	$(CC) $(WARN) $(CFLAGS) -shared -fPIC -o $@ $<

$(B)/tests/fuzz_name: tests/fuzz_name.c $(SHIM_SRC) $(SHIM_HDR) | $(B)/tests
	$(CLANG) $(WARN) -g -O1 -Ishim -fsanitize=fuzzer,address,undefined \
	    -o $@ tests/fuzz_name.c shim/name.c shim/path.c shim/md5.c

TEST_BINS = $(addprefix $(B)/tests/,$(UNIT_TESTS) $(API_TESTS) $(HELPERS)) \
            $(addprefix $(B)/tests/,$(addsuffix -san,$(API_TESTS))) $(B)/tests/fake_now.so

# The other platforms make check tests, each in a build of its own under
# $(B), when its compiler is there (tests/run, variants aarch64 and musl):
# the library, shmclean, these API tests, shm_tool (for shmclean) and
# parity (the same answers on every platform).
AARCH64_CC ?= aarch64-linux-gnu-gcc
MUSL_CC    ?= musl-gcc
export AARCH64_CC MUSL_CC
PLATFORM_TESTS = t_shm t_sem t_lock t_race t_fail t_sysv

api-tests: $(B)/libshmshim.so $(B)/shmclean $(addprefix $(B)/tests/,$(PLATFORM_TESTS) shm_tool parity)

# $(call platform_build,NAME,COMPILER[,TARGET]): makes TARGET (default
# api-tests) in $(B)/NAME with COMPILER, or says why not; its tests then
# skip and say so too.
platform_build = if $(2) -E -include stdio.h -x c /dev/null >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory BUILDDIR=$(B)/$(1) CC=$(2) $(or $(3),api-tests); \
	else echo "note: no $(1) build, its tests are skipped: cannot compile with $(2)" \
	    "(on Debian: apt-get install $(call cc_packages,$(2)))"; fi

# Runs every test and prints prove's summary. The fuzzer and the Boost
# client are built only when clang and Boost are there; their tests say so
# when they are not. The tests in tests/last run afterwards, alone: one
# runs the whole of make check again in an unpacked source tarball (and
# there, with SHMSHIM_IN_DIST set, not again).
check: check-build
	prove -j2 --exec tests/limit tests/*.t
	@if [ -z "$$SHMSHIM_IN_DIST" ]; then \
	    SHMSHIM_TEST_LIMIT=$${SHMSHIM_TEST_LIMIT:-1800} prove --exec tests/limit tests/last/*.t; fi

check-build: all $(TEST_BINS)
	@$(call platform_build,aarch64,$(AARCH64_CC))
	@$(call platform_build,musl,$(MUSL_CC))
	@if command -v $(CLANG) >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(B)/tests/fuzz_name; fi
	@if [ -d /usr/include/boost/interprocess ] && command -v $(CXX) >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(B)/tests/boost_counter; fi

# Plants each of a list of realistic bugs in a scratch copy and checks that
# the tests catch it (see tests/mutants); slow, so not part of check.
mutants: check-build
	$(PYTHON) tests/mutants $(MUTANTS)

# Benchmarks: the shim against native glibc, in one run (see bench/run).
$(B)/bench/shmbench: bench/shmbench.c
	mkdir -p $(B)/bench
	$(CC) $(WARN) -O2 -o $@ $< -lrt

bench: all $(B)/bench/shmbench
	$(PYTHON) bench/run $(BENCH_ARGS)

# --- packages (see README, Packages) ---

# The machine the packages are for, as the compiler names it: x86_64 or
# aarch64, with glibc (a package's name and tags promise both).
TRIPLET = $(shell $(CC) -dumpmachine)
MACHINE = $(if $(GLIBC),,$(error packages hold glibc builds, and $(CC) does not build for glibc))$\
	$(or $(filter x86_64 aarch64,$(firstword $(subst -, ,$(TRIPLET)))),$\
	$(error packages are made for x86_64 and aarch64, not $(TRIPLET)))

# AWS Lambda layers, one zip per architecture (x86_64, and arm64 when the
# aarch64 compiler is there): its bin/ and lib/ become /opt/bin and
# /opt/lib, where the launcher finds the library and the exec wrapper
# (packaging/lambda/shmshim-exec) points LD_PRELOAD.
LAYER_ARCH = $(if $(filter aarch64,$(MACHINE)),arm64,x86_64)
LAYER_ZIP  = $(DISTDIR)/shmshim-lambda-layer-$(VERSION)-$(LAYER_ARCH).zip

lambda-layer: layer
	@$(call platform_build,aarch64,$(AARCH64_CC),layer)

# The layer of this build's architecture.
layer: all
	rm -rf $(B)/layer && mkdir -p $(B)/layer/bin $(B)/layer/lib $(DISTDIR)
	$(MAKE) --no-print-directory $(B)/shmshim.installed BINDIR=/opt/bin LIBDIR=/opt/lib
	install -m 0755 $(B)/shmshim.installed $(B)/layer/bin/shmshim
	install -m 0755 $(B)/shmclean packaging/lambda/shmshim-exec $(B)/layer/bin/
	install -m 0755 $(B)/libshmshim.so $(B)/layer/lib/
	rm -f $(LAYER_ZIP)
	cd $(B)/layer && zip -q -X -r '$(abspath $(LAYER_ZIP))' bin lib

# The Python wheels, one per architecture (x86_64, and aarch64 when the
# aarch64 compiler is there): the package in packaging/python, staged
# under $(B)/wheel with the library, shmclean and a launcher that finds the
# library at ../lib, made offline by setuptools (packaging/python/setup.py).
WHEEL_PLAT  = manylinux2014_$(MACHINE)
WHEEL_STAGE = $(B)/wheel

wheel: one-wheel
	@$(call platform_build,aarch64,$(AARCH64_CC),one-wheel)

# The launcher as the wheel lays it out: bin/shmshim, lib/libshmshim.so.
$(B)/shmshim.wheel: tools/shmshim.c VERSION | $(B)/obj
	librel=../lib && $(LAUNCHER_LINK)

# The wheel of this build's architecture.
one-wheel: all $(B)/shmshim.wheel
	rm -rf $(WHEEL_STAGE) && mkdir -p $(WHEEL_STAGE)/shmshim/bin $(WHEEL_STAGE)/shmshim/lib $(DISTDIR)
	cp packaging/python/setup.py VERSION $(WHEEL_STAGE)/
	cp packaging/python/shmshim/*.py $(WHEEL_STAGE)/shmshim/
	install -m 0755 $(B)/shmshim.wheel $(WHEEL_STAGE)/shmshim/bin/shmshim
	install -m 0755 $(B)/shmclean $(WHEEL_STAGE)/shmshim/bin/shmclean
	install -m 0755 $(B)/libshmshim.so $(WHEEL_STAGE)/shmshim/lib/libshmshim.so
	cd $(WHEEL_STAGE) && SHMSHIM_WHEEL_PLAT=$(WHEEL_PLAT) $(PYTHON) setup.py -q bdist_wheel \
	    -d '$(abspath $(DISTDIR))' >setup.log 2>&1 || { cat setup.log; exit 1; }

# The Debian package of this build's architecture: make install into a
# stage with the library in the multiarch directory, then
# packaging/debian/mkdeb. Native and cross builds alike
# (make deb BUILDDIR=build/aarch64 CC=aarch64-linux-gnu-gcc: arm64).
DEB_ARCH    = $(if $(filter aarch64,$(MACHINE)),arm64,amd64)
DEB_STAGE   = $(B)/deb
DEB         = $(DISTDIR)/shmshim_$(VERSION)-1_$(DEB_ARCH).deb

deb: all
	rm -rf $(DEB_STAGE) && mkdir -p $(DISTDIR)
	$(MAKE) --no-print-directory install DESTDIR='$(abspath $(DEB_STAGE))' PREFIX=/usr \
	    LIBDIR=/usr/lib/$(TRIPLET)/shmshim
	packaging/debian/mkdeb $(DEB_STAGE) $(VERSION) $(DEB_ARCH) \
	    "$$($(CC) -print-prog-name=strip)" $(DEB)

# The source tarball: exactly the files git tracks, as they are in the
# working tree, under shmshim-VERSION/ (tests/last/dist.t unpacks it and
# runs make check there).
DIST_TAR = $(DISTDIR)/shmshim-$(VERSION).tar.gz

dist:
	@git ls-files --error-unmatch Makefile >/dev/null 2>&1 || \
	    { echo "make dist: packs the files git tracks, so it needs the git checkout" >&2; exit 1; }
	mkdir -p $(DISTDIR)
	git ls-files -z | tar --null -T - --transform 's,^,shmshim-$(VERSION)/,' \
	    --owner=0 --group=0 --numeric-owner --sort=name -czf $(DIST_TAR)

clean:
	rm -rf $(B) $(DISTDIR)
.SECONDARY: $(SAN_OBJ)
