#!/bin/sh
# Checks the Debian package built by `make package` in BUILD_DIR: unpacks it into a scratch
# root (dpkg -x) and checks the layout, the control data (Depends on the runtime libraries, the
# config as a conffile, the maintainer scripts), that the installed config validates with the
# packaged binary (its /usr/share paths pointed at the scratch root), and lintian without errors.
# Usage: check-package.sh BUILD_DIR
set -eu
build=$(cd "${1:?usage: check-package.sh BUILD_DIR}" && pwd)
deb=$(ls "$build"/dunghan_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "check-package: no dunghan_*.deb in $build (make package)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "check-package: $*" >&2; exit 1; }

dpkg-deb -x "$deb" "$root/fs"
dpkg-deb -e "$deb" "$root/control"
for f in usr/bin/dunghand usr/bin/dunghanctl etc/dunghan/dunghan.conf \
	usr/share/dunghan/holidays/vn-2025.conf usr/share/dunghan/templates/vi/due.subject \
	usr/share/dunghan/templates/en/kpi_report.txt usr/share/dunghan/procedures/sample.csv \
	usr/lib/systemd/system/dunghan.service usr/lib/sysusers.d/dunghan.conf \
	usr/share/man/man8/dunghand.8.gz usr/share/man/man1/dunghanctl.1.gz \
	usr/share/man/man5/dunghan.conf.5.gz usr/share/doc/dunghan/copyright \
	usr/share/doc/dunghan/operations.md; do
	[ -e "$root/fs/$f" ] || fail "missing /$f"
done
grep -qx '/etc/dunghan/dunghan.conf' "$root/control/conffiles" || fail "the config is not a conffile"
for s in postinst prerm postrm; do [ -x "$root/control/$s" ] || fail "no executable $s"; done
depends=$(sed -n 's/^Depends: //p' "$root/control/control")
for lib in libuv1 libsqlite3-0 libcurl4 libconfig9 libjansson4 libsystemd0 libssl3 tzdata; do
	echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
grep -q 'ExecStart=/usr/bin/dunghand --config /etc/dunghan/dunghan.conf' \
	"$root/fs/usr/lib/systemd/system/dunghan.service" || fail "the unit does not start /usr/bin/dunghand"
if grep -q 'sha256 = ' "$root/fs/etc/dunghan/dunghan.conf"; then
	fail "the packaged config carries tokens (the development tokens must not ship)"
fi
sed "s|/usr/share/dunghan|$root/fs/usr/share/dunghan|g" "$root/fs/etc/dunghan/dunghan.conf" \
	> "$root/check.conf"
"$root/fs/usr/bin/dunghand" --check-config --config "$root/check.conf" >/dev/null ||
	fail "the packaged config does not validate"
# Errors fail; warnings are shown. Running as root needs --allow-root.
lintian --allow-root --fail-on error --tag-display-limit 0 "$deb" ||
	fail "lintian reports errors"
echo "check-package: ok ($(basename "$deb"))"
