#!/bin/sh
# static-analysis.sh BUILD_DIR: cppcheck (warning and portability) and clang-tidy (the checks of
# tests/ops/clang-tidy.yaml, with BUILD_DIR's compile_commands.json) over daemon/; any finding
# fails. Run by `make test`; docs/testing.md, "Static analysis", says what is checked and why.
set -eu
build=${1:?usage: static-analysis.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
build=$(cd "$build" && pwd)
if [ ! -f "$build/compile_commands.json" ]; then
	echo "static-analysis: no $build/compile_commands.json (configure with CMake first)" >&2
	exit 1
fi

echo "static-analysis: cppcheck"
cppcheck --enable=warning,portability --error-exitcode=1 --quiet --std=c11 \
	--suppressions-list=tests/ops/cppcheck.supp --inline-suppr -j 2 daemon/

echo "static-analysis: clang-tidy"
# Two at a time; a file's findings come out whole, and any of them fails the run.
ls daemon/*.c | xargs -P 2 -n 8 clang-tidy -p "$build" --quiet \
	--config-file=tests/ops/clang-tidy.yaml 2>/dev/null
echo "static-analysis: clean"
