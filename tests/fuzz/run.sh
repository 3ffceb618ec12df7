#!/bin/sh
# Runs every fuzzer in BUILD_DIR for SECONDS each (default 60) on its seed corpus
# (tests/fuzz/corpus/<name>/, with the dictionary tests/fuzz/<name>.dict when there is one).
# New inputs go to a scratch directory, not into the repository. Prints each fuzzer's total
# executions; exits 1 at the first crash, leak or timeout (the reproducer is kept in
# BUILD_DIR/fuzz-findings/ and its path printed). Usage: run.sh BUILD_DIR [SECONDS]
set -eu
build=$(cd "${1:?usage: run.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/fuzz-findings"
export LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
status=0
for bin in "$build"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	short=${name#fuzz_}
	seeds="$here/corpus/$short"
	mkdir -p "$scratch/$short"
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-findings/$name-"
	[ -f "$here/$short.dict" ] && set -- "$@" -dict="$here/$short.dict"
	if [ -d "$seeds" ]; then set -- "$@" "$scratch/$short" "$seeds"; else set -- "$@" "$scratch/$short"; fi
	if "$bin" "$@" > "$scratch/$name.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$name.log")
		echo "fuzz: $name: ${execs:-?} executions in ${seconds}s, no finding"
	else
		tail -n 40 "$scratch/$name.log" >&2
		echo "fuzz: $name FAILED; reproducer in $build/fuzz-findings/" >&2
		status=1
	fi
done
exit $status
