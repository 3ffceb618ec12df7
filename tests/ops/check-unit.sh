#!/bin/sh
# Checks the systemd unit as installed: `systemd-analyze verify` (with the ExecStart pointed at
# the freshly built dunghand, since nothing is installed in CI) and `systemd-analyze security`,
# failing above the exposure target of docs/operations.md (2.0). Usage: check-unit.sh BUILD_DIR
set -eu
build=$(cd "${1:?usage: check-unit.sh BUILD_DIR}" && pwd)
unit="$build/dunghan.service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f "$unit" ] || { echo "check-unit: $unit not found (configure the build first)" >&2; exit 1; }
bindir=$(sed -n 's|^ExecStart=\(.*\)/dunghand .*|\1|p' "$unit")
sed "s|$bindir/dunghand|$build/dunghand|g" "$unit" > "$work/dunghan.service"
# verify looks for the unit's dependencies and binaries; it needs no running systemd.
SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$work/dunghan.service"
# The threshold is on the 0-100 scale the tool uses internally: 20 = an exposure of 2.0.
if ! systemd-analyze security --offline=true --threshold=20 "$work/dunghan.service" \
	> "$work/security.txt" 2>&1; then
	cat "$work/security.txt" >&2
	echo "check-unit: the unit's exposure is above 2.0" >&2
	exit 1
fi
tail -n 1 "$work/security.txt"
echo "check-unit: ok"
