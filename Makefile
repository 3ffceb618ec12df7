# dunghan — thin wrapper around CMake. `make run` and `make test` work on a fresh Debian 12
# machine: they install what is missing (apt-get, as root or through sudo), build and go.
#   make deps     install missing Debian packages
#   make build    normal build (gcc) in build/
#   make run      build, then run dunghand in the foreground on the example config (./var/)
#   make test     build normally (gcc) and with ASan+UBSan (clang), check the systemd unit, run
#                 cppcheck and clang-tidy, every test on both, a one-minute soak, the fuzzers
#                 10 s each
#   make bench    build, then run the benchmarks in tests/bench/
#   make fuzz     build the libFuzzer harnesses (clang) and run each FUZZ_SECONDS (default 60)
#   make crash    the long crash loop: CYCLES kill -9 cycles (default 1000)
#   make soak     mixed load with abusive clients for MINUTES (default 10); RSS, fds, loop lag
#   make package  the Debian package (CPack) in build-pkg/, checked with lintian
#   make clean    remove build trees and ./var/

DEPS := cmake make pkg-config gcc clang libclang-rt-14-dev libuv1-dev libsqlite3-dev \
	libcurl4-openssl-dev libconfig-dev libjansson-dev libsystemd-dev libcriterion-dev \
	node-llhttp libssl-dev python3-aiosmtpd tzdata sqlite3 systemd scdoc dpkg-dev lintian chromium \
	faketime cppcheck clang-tidy
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CYCLES ?= 1000
MINUTES ?= 10

.PHONY: deps build build-asan build-fuzz run test bench fuzz crash soak package clean

deps:
	@missing=""; \
	for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DDUNGHAN_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DDUNGHAN_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers

# dunghand refuses to run as root without --allow-root; `make run` as root is a developer's try.
run: build
	@mkdir -p var
	./build/dunghand --config config/dunghan.conf.example --database var/dunghan.db \
		$$([ "$$(id -u)" -eq 0 ] && echo --allow-root)

# The soak minute runs alone, after the gcc tests: its /healthz p99 bound assumes an idle machine.
test: build build-asan build-fuzz package
	tests/ops/check-unit.sh build
	tests/ops/static-analysis.sh build
	cd build && ctest --output-on-failure -j $(JOBS)
	SOAK_SECONDS=60 build/soak
	cd build-asan && ctest --output-on-failure -j $(JOBS)
	tests/fuzz/run.sh build-fuzz 10
	tests/ops/check-package.sh build-pkg

fuzz: build-fuzz
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

crash: build
	CRASH_CYCLES=$(CYCLES) build/test_crash_loop

soak: build
	SOAK_SECONDS=$$(($(MINUTES) * 60)) build/soak

package: deps
	@cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
		-DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	@cmake --build build-pkg -j $(JOBS) --target dunghand dunghanctl man changelog
	cd build-pkg && cpack -G DEB >/dev/null && ls -1 *.deb

bench: build
	@set -e; for b in build/bench_*; do echo "== $$b"; $$b; done

clean:
	rm -rf build build-asan build-fuzz build-pkg var
