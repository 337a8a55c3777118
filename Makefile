# Live Code Execution Engine
#   make run    build and start runner + lighttpd on 127.0.0.1:$(PORT)
#   make test   unit tests and API tests against the real stack
#   make asan   the same tests with AddressSanitizer + UBSan builds

PORT     ?= 8000
DATA_DIR ?= $(CURDIR)/data
BUILD    ?= build
# make run STORE=postgresql: the stack on a PostgreSQL server of its own in
# $(DATA_DIR)/postgresql (scripts/with-postgresql); otherwise the configured store.
STORE    ?=

CC       ?= cc
PKGS     := libzmq json-c uuid sqlite3 libseccomp libjwt libcrypto libpq
WARN     := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wwrite-strings \
            -Werror=format-security -Wshadow -Wvla
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -Icommon $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SAN)

COMMON_SRC := $(wildcard common/*.c)
FCGI_SRC   := $(wildcard fcgi_app/*.c)
RUNNER_SRC := $(wildcard runner/*.c)
EVENTS_SRC := $(wildcard events/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/schema_sql.o
FCGI_OBJ   := $(FCGI_SRC:%.c=$(BUILD)/obj/%.o)
RUNNER_OBJ := $(RUNNER_SRC:%.c=$(BUILD)/obj/%.o)
EVENTS_OBJ := $(EVENTS_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
LIB_FCGI   := $(filter-out $(BUILD)/obj/fcgi_app/main.o,$(FCGI_OBJ))
LIB_RUNNER := $(filter-out $(BUILD)/obj/runner/main.o,$(RUNNER_OBJ))

# What make run needs, and what make test needs on top.
RUN_PKGS  := build-essential pkg-config lighttpd libfcgi-dev libzmq3-dev libjson-c-dev \
             uuid-dev libsqlite3-dev libseccomp-dev libjwt-dev libssl-dev libpq-dev postgresql-15 python3 \
             nodejs node-typescript gcc g++ openjdk-17-jdk-headless golang-go rustc bash sqlite3 pyflakes3 \
             python3-numpy python3-pandas python3-matplotlib
TEST_PKGS := $(RUN_PKGS) python3-pytest curl sqlite3 clang libclang-rt-14-dev python3-jwt python3-cryptography openssl
BENCH_PKGS := $(RUN_PKGS) wrk
# The Apache front end (tests/test_apache.py), promtool and prometheus (make rules,
# tests/test_metrics.py, tests/test_dashboard.py),
# systemd-analyze (tests/test_install.py) and a real browser (tests/test_docs.py;
# tests/test_playground.py drives it through chromedriver and Selenium).
TEST_PKGS  += apache2 libapache2-mod-fcgid prometheus systemd logrotate groff-base chromium chromium-driver python3-selenium
# make container-test: podman and a locally made Debian base image.
CONTAINER_PKGS := podman runc debootstrap curl
# make compose-test: docker-compose.yml's postgresql profile, by Debian's
# docker-compose through podman's Docker API; netavark's DNS names the services.
COMPOSE_PKGS := $(CONTAINER_PKGS) docker-compose netavark aardvark-dns
# make vm-test: a Debian 12 virtual machine made with debootstrap, booted
# with qemu (VM_HOST_PKGS on this host; VM_PKGS are the machine's own). The
# machine emulates its CPU (TCG): the toolchains of Java, Go, Rust and
# JavaScript/TypeScript are left out (minutes per program there); the runner
# lists the languages it finds. The machine runs the SQLite store: it builds
# against libpq but needs no PostgreSQL server.
VM_HOST_PKGS := qemu-system-x86 debootstrap e2fsprogs openssh-client python3-pytest git $(CONTAINER_PKGS)
VM_PKGS := $(filter-out nodejs node-typescript openjdk-17-jdk-headless golang-go rustc postgresql-15,$(RUN_PKGS)) \
	   systemd systemd-sysv udev dbus linux-image-amd64 initramfs-tools openssh-server \
	   iproute2 procps python3-pytest podman crun netavark aardvark-dns iptables curl

.PHONY: all run test unit api api-pg asan bench bench-operations clean www fuzz fuzz-smoke rules

all: $(BUILD)/fcgi_app $(BUILD)/runner $(BUILD)/events $(BUILD)/unit_tests

$(BUILD)/obj/%.o: %.c $(wildcard common/*.h fcgi_app/*.h runner/*.h events/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The schema lives in conf/schema.sql for people; the programs embed it.
$(BUILD)/schema_sql.c: conf/schema.sql
	@mkdir -p $(BUILD)
	{ echo 'const char schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/obj/schema_sql.o: $(BUILD)/schema_sql.c
	@echo "  CC $<"; $(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/fcgi_app: $(FCGI_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lfcgi $(LDLIBS)

# The library a warm Python interpreter loads (runner/warm.c): the sandbox's
# entry compiled once more, position-independent and without sanitizers (it
# runs inside the interpreter), embedded in the runner.
WARM_LIB_SRC := runner/zygote/entry.c runner/sandbox_child.c runner/sandbox_owner.c \
                runner/sandbox_mount.c runner/sandbox_fail.c runner/sandbox_artifacts.c runner/sandbox_files.c \
                runner/seccomp.c
$(BUILD)/warm_entry.so: $(WARM_LIB_SRC) $(wildcard runner/*.h common/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CPPFLAGS) -std=c11 $(WARN) $(CFLAGS) -fPIC -shared -o $@ $(WARM_LIB_SRC) -lseccomp

$(BUILD)/obj/runner/warm_lib.o: $(BUILD)/warm_entry.so
$(BUILD)/obj/runner/warm_lib.o: CPPFLAGS += -DWARM_LIB='"$(BUILD)/warm_entry.so"'

$(BUILD)/runner: $(RUNNER_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/events: $(EVENTS_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(LIB_FCGI) $(LIB_RUNNER) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lfcgi $(LDLIBS)

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c $(wildcard tests/unit/*.h common/*.h fcgi_app/*.h runner/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ifcgi_app -Irunner $(ALL_CFLAGS) -c -o $@ $<

run:
	@scripts/ensure-deps $(RUN_PKGS)
	@scripts/ensure-node-types
	@$(MAKE) --no-print-directory all www
	@exec env PORT=$(PORT) DATA_DIR=$(DATA_DIR) BUILD=$(BUILD) \
		$(if $(filter postgresql,$(STORE)),scripts/with-postgresql) scripts/run-stack

unit: all
	$(BUILD)/unit_tests

api: all www
	BUILD=$(BUILD) /usr/bin/python3 -m pytest -q -p no:cacheprovider $(API_SKIP) tests

# The API, contract, bad-input and access suites once more with the PostgreSQL store,
# on a server the tests start (tests/pg.py); make api ran them on SQLite.
PG_SUITES := tests/test_api.py tests/test_contract.py tests/test_bad_input.py tests/test_auth.py tests/test_quota.py \
	     tests/test_files.py tests/test_artifacts.py tests/test_events.py tests/test_metrics.py
api-pg: all www
	STORE=postgresql BUILD=$(BUILD) /usr/bin/python3 -m pytest -q -p no:cacheprovider $(PG_SUITES)

test:
	@scripts/ensure-deps $(TEST_PKGS)
	@scripts/ensure-node-types
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory rules
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory api
	@$(MAKE) --no-print-directory api-pg

# The alert rules: each alert fires on the series that should fire it and
# stays quiet on a healthy engine (promtool, Debian package prometheus).
# tests/test_dashboard.py evaluates them against a live engine too.
rules:
	promtool check rules conf/prometheus/alerts.yml
	promtool test rules conf/prometheus/alerts_test.yml

# What lighttpd serves statically from $(BUILD)/www: /openapi.json, /docs
# (Swagger UI from npm, pinned in www/package-lock.json), the playground at /
# (CodeMirror 6 from npm, bundled by esbuild) and its own error pages as
# JSON. Needs npm (scripts/build-www installs nodejs npm if missing).
www: $(BUILD)/www/.built

$(BUILD)/www/.built: conf/openapi.json www/docs/index.htm www/docs/init.js www/errors.tsv www/package.json \
		     www/package-lock.json scripts/build-www $(wildcard www/playground/*.* www/playground/src/*.js)
	@scripts/build-www $(BUILD)
	@touch $@

# libFuzzer targets (tests/fuzz/) over the request parsing and validation code
# and the wake-up message, built with clang under ASan + UBSan into $(BUILD)/fuzz.
# make fuzz runs each for FUZZ_SECONDS; make test runs each for a few seconds.
FUZZ_TARGETS := fuzz_request fuzz_validate fuzz_query fuzz_wake fuzz_auth
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_FLAGS   := -std=c11 $(WARN) -g -O1 -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(COMMON_SRC) $(filter-out fcgi_app/main.c,$(FCGI_SRC))) \
		$(FUZZ_DIR)/obj/tests/unit/mem_stream.o $(FUZZ_DIR)/obj/schema_sql.o
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
.SECONDARY: $(FUZZ_LIB_OBJ)

$(FUZZ_DIR)/obj/%.o: %.c $(wildcard common/*.h fcgi_app/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"; $(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/schema_sql.o: $(BUILD)/schema_sql.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	@echo "  FUZZLD $@"; $(FUZZ_CC) $(CPPFLAGS) -Ifcgi_app -Itests/unit $(FUZZ_FLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_LIB_OBJ) -lfcgi $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_BINS)
	@tests/fuzz/run $(FUZZ_DIR) 5 $(FUZZ_TARGETS)

# Not part of make test: prints a table, writes build/bench.json.
bench:
	@scripts/ensure-deps $(BENCH_PKGS)
	@scripts/ensure-node-types
	@$(MAKE) --no-print-directory all
	$(if $(filter postgresql,$(STORE)),DATA_DIR=$(CURDIR)/$(BUILD)/bench-postgresql scripts/with-postgresql) \
		env BUILD=$(BUILD) /usr/bin/python3 bench/bench.py

# Not part of make test: a million executions written straight into the
# store (tests/history.py), the scrape time of /metrics over them, and
# autosave latency idle and while retention deletes them (README, Operations).
bench-operations: all
	BUILD=$(BUILD) /usr/bin/python3 bench/operations_bench.py

# A sandbox's init is a fork of the process that starts the run, in the
# run's cgroup: a resident size of that process larger than the memory
# limit plus the program (ASan's quarantine of freed memory, 256 MB by
# default) would make init, not the program, the OOM killer's choice even
# against the program's oom_score_adj of 1000. The quarantine is kept small
# so the sandboxes of an ASan build see what the plain build's see.
#
# The tests of tests/asan-skipped.txt are left out: their time is not spent
# in our C code, which the rest drive the same way.
asan:
	@ASAN_OPTIONS=quarantine_size_mb=8 $(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		API_SKIP="$$(sed -e 's/#.*//' -e '/^ *$$/d' -e 's/^ *\([^ ]*::[^ ]*\) *$$/--deselect=\1/' \
			-e 's/^ *\([^ -][^ ]*\) *$$/--ignore=\1/' tests/asan-skipped.txt | tr '\n' ' ')" unit api api-pg

# make backup BACKUP=FILE [DATA_DIR=...]: the store copied into FILE while the
# engine serves (SQLite's online backup; pg_dump for a PostgreSQL store).
# make restore BACKUP=FILE [DATA_DIR=...]: FILE put back as the store, refused
# while an engine uses DATA_DIR (README, "Operations").
ENGINE_CONFIG ?= $(CURDIR)/conf/engine.conf
.PHONY: backup restore
backup restore: $(BUILD)/runner
	@test -n "$(BACKUP)" || { echo "usage: make $@ BACKUP=file [DATA_DIR=dir]" >&2; exit 2; }
	@DATA_DIR="$(DATA_DIR)" $(BUILD)/runner --config "$(ENGINE_CONFIG)" --$@ "$(BACKUP)"

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc] [LOCALSTATEDIR=/var]
PREFIX        ?= /usr/local
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR       ?= $(PREFIX)/lib/systemd/system
.PHONY: install container-test compose-test vm-image suite-deps vm-test cluster-test
install: $(BUILD)/fcgi_app $(BUILD)/runner $(BUILD)/events
	@scripts/install "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)" "$(LOCALSTATEDIR)" "$(UNITDIR)" "$(BUILD)"

# Builds the Dockerfile with podman and runs the API smoke test against the
# container (not part of make test: see README, "Containers").
container-test:
	@scripts/ensure-deps $(CONTAINER_PKGS)
	@scripts/container-test

# docker-compose.yml's postgresql profile scaled to three runners (README,
# "Containers"); reuses container-test's image.
compose-test:
	@scripts/ensure-deps $(COMPOSE_PKGS)
	@scripts/compose-test

# make vm-test: make install and the systemd units on a Debian 12 virtual
# machine with pure cgroup v2, and the API, hostile, durability and systemd
# suites against it from here (not part of make test: see README, "Testing").
# The machine's image is cached in $(BUILD)/vm/ (scripts/vm-image).
vm-image:
	@scripts/ensure-deps $(VM_HOST_PKGS)
	@scripts/vm-image $(BUILD) $(VM_PKGS)

# The packages of container-test, compose-test, vm-test and cluster-test in
# one apt run: .ci/run makes vm-test's image while the container suites
# run, and two apt runs at once would fight over dpkg's lock.
suite-deps:
	@scripts/ensure-deps $(VM_HOST_PKGS) $(COMPOSE_PKGS) $(CLUSTER_PKGS)

vm-test:
	@scripts/ensure-deps $(VM_HOST_PKGS)
	@$(MAKE) --no-print-directory www
	@tests/vm/run $(BUILD) $(VM_PKGS)

# make cluster-test: one PostgreSQL host, two web hosts and three runner
# hosts in network namespaces on this machine; the API through either web
# host, faults under load and the scaling figures (root; about 4 minutes;
# not part of make test: see README, "Scaling out").
CLUSTER_PKGS := $(TEST_PKGS) iproute2 util-linux
cluster-test: all www
	@scripts/ensure-deps $(CLUSTER_PKGS)
	BUILD=$(BUILD) /usr/bin/python3 tests/cluster.py

clean:
	rm -rf build build-asan
