#!/bin/sh
# promtool.sh DIR: put promtool, taken out of Debian's prometheus package
# (apt-get download and dpkg-deb -x: nothing is installed, so no Prometheus
# server is started and no config is written), in DIR. The tests of the
# alert rules, the dashboard's queries and dlayer serve's metrics use it.
set -eu
dir=$1
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
	echo "make deps: no apt-get: install promtool (Prometheus) on PATH for the alert rules' tests" >&2
	exit 0
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download -qq prometheus >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null
	apt-get download -qq prometheus >/dev/null
fi
dpkg-deb -x prometheus_*.deb x
install -D -m 0755 x/usr/bin/promtool "$dir/promtool"
echo "make deps: promtool $("$dir/promtool" --version 2>&1 | head -1 | cut -d' ' -f3) from Debian's prometheus package in $dir"
