# stratum - a Bitcoin Stratum V1 pool server.  Plain make, no configure step.
#
#   make            the server, ./stratum
#   make test       unit tests (each run through $(EXEC), so qemu can run them)
#   make asan       unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make cross      unit tests built for aarch64, armhf and big-endian MIPS, run
#                   under qemu-user
#   make integration  end-to-end tests against a real regtest node (bcoin)
#   make check      all of the above: the project's whole test suite
#   make demo       regtest node + pool + test miner, prints the blocks found
#   make bench      benchmarks (figures, never pass/fail)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Cross builds: make CC=aarch64-linux-gnu-gcc works as it is.  Packagers may
# override WERROR= (drop -Werror) or any of CFLAGS, CPPFLAGS, LDFLAGS.

CFLAGS = -O2 -g
CPPFLAGS =
LDFLAGS =
LDLIBS =
WERROR = -Werror
WARNINGS = -Wall -Wextra -Wpedantic $(WERROR)
STD = -std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64
ALL_CFLAGS = $(STD) $(WARNINGS) $(CPPFLAGS) $(CFLAGS)

PREFIX = /usr/local
DESTDIR =

# O: where objects and test binaries go; BIN: the server binary.
O = build
BIN = stratum
EXEC =
VECTORS = ../shared/vectors

# Every top-level .c but the program's main is a library module.
LIB_SRCS = $(filter-out stratum.c,$(wildcard *.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/%.o)
LIB = $(O)/libstratum.a
TESTS = $(patsubst test/%.c,$(O)/%,$(wildcard test/test_*.c))
BENCHES = $(patsubst test/%.c,$(O)/%,$(wildcard test/bench_*.c))
TOOLS = $(O)/miner $(O)/loadgen

all: $(BIN)

$(O)/.dir:
	mkdir -p $(O)
	touch $@

$(O)/%.o: %.c $(O)/.dir
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/test_%.o $(O)/bench_%.o $(O)/miner.o $(O)/loadgen.o $(O)/fuzz_%.o: \
    ALL_CFLAGS += -I.
$(O)/%.o: test/%.c $(O)/.dir
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@
	$(AR) rc $@ $(LIB_OBJS)

$(BIN): $(O)/stratum.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(O)/stratum.o $(LIB) $(LDLIBS)

$(O)/test_%: $(O)/test_%.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lm

$(O)/bench_%: $(O)/bench_%.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lm

$(O)/miner $(O)/loadgen: $(O)/%: $(O)/%.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lm

tests: $(TESTS) $(TOOLS) $(BIN)

test: tests
	@sh test/run_unit.sh "$(O)" "$(EXEC)" "$(VECTORS)" $(TESTS)

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
asan:
	$(MAKE) O=build/asan BIN=build/asan/stratum \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" test

CROSS_TARGETS = aarch64-linux-gnu arm-linux-gnueabihf mips-linux-gnu
cross:
	@set -e; for t in $(CROSS_TARGETS); do \
	    arch=$${t%%-*}; [ $$arch = arm ] && arch=arm; \
	    echo "== $$t"; \
	    $(MAKE) -s O=build/$$t BIN=build/$$t/stratum CC=$$t-gcc \
	        EXEC="qemu-$$arch -L /usr/$$t" test; \
	done

integration: $(BIN) $(TOOLS)
	@sh test/node.sh install
	@POOL_BIN=./$(BIN) node test/integration.js "$(O)"

# The integration suite again with the pool built with ASan + UBSan (the
# leak check runs when each pool exits on SIGTERM), or run under valgrind.
integration-asan:
	$(MAKE) O=build/asan BIN=build/asan/stratum \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" integration
VALGRIND = valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	--error-exitcode=99
integration-valgrind: $(BIN) $(TOOLS)
	@POOL_WRAP="$(VALGRIND)" POOL_BIN=./$(BIN) node test/integration.js "$(O)"

check:
	@sh test/check.sh

bench: $(BENCHES) $(BIN)
	@set -e; for b in $(BENCHES); do $(EXEC) ./$$b "$(VECTORS)"; done
	@POOL_BIN=./$(BIN) sh test/bench_pool.sh

# libFuzzer (clang): each harness for FUZZ_SECONDS (default 60; CI: 10).
FUZZ_SECONDS = 60
fuzz:
	@sh test/fuzz.sh $(FUZZ_SECONDS)

demo: all tests
	@sh test/demo.sh "$(O)"

install: $(BIN)
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/stratum \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system
	cp -f $(BIN) $(DESTDIR)$(PREFIX)/bin/stratum
	chmod 755 $(DESTDIR)$(PREFIX)/bin/stratum
	cp -f setting.ini $(DESTDIR)$(PREFIX)/share/stratum/setting.ini.sample
	cp -f README.md $(DESTDIR)$(PREFIX)/share/stratum/README.md
	cp -f contrib/stratum.init $(DESTDIR)$(PREFIX)/share/stratum/stratum.init
	chmod 755 $(DESTDIR)$(PREFIX)/share/stratum/stratum.init
	sed 's|/usr/local|$(PREFIX)|g' contrib/stratum.service \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/stratum.service

clean:
	rm -rf build stratum

.PHONY: all test tests asan cross integration integration-asan integration-valgrind check bench fuzz demo install clean
.SECONDARY:

-include $(wildcard $(O)/*.d)
