#!/bin/sh
# make demo: build a fixture store in a new dir under /tmp (kept, so that
# you can go on from it), run every dlayer command on it, each echoed
# exactly as it runs, and end with the commands to try next.
#
# As root, the overlay2 fixture store (whiteout devices, trusted xattrs and
# owners need root), then a look at the committed aufs store; otherwise the
# committed plain-file aufs store, which needs no privilege.
#
#   tools/demo.sh DLAYER MKSTORE      (make demo: bin/dlayer bin/mkstore)
set -eu
dlayer=${1:-bin/dlayer}
mkstore=${2:-bin/mkstore}
d=$(mktemp -d /tmp/dlayer-demo.XXXXXX)
root=$d/root

# q quotes a word for a POSIX shell when it needs it.
q() {
	case $1 in
	*[!A-Za-z0-9_./:=@%+,-]* | '') printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# run echoes a command line as it runs it, then runs it.
run() {
	printf '$'
	for a in "$@"; do
		printf ' %s' "$(q "$a")"
	done
	printf '\n'
	"$@"
}

if [ "$(id -u)" = 0 ]; then
	# -wallclock: the containers are written when they say they were, so
	# their files' ctimes agree with their records as on a real host
	"$mkstore" -wallclock "$root"
else
	"$mkstore" -driver aufs-committed "$root"
fi
echo
echo "The demo store is $root (kept after the demo)."
echo
run "$dlayer" --root "$root" --mountinfo none --daemon off ps
echo
run "$dlayer" --root "$root" images
echo
run "$dlayer" --root "$root" layers demo/app:2
echo
run "$dlayer" --root "$root" --mountinfo none --daemon off explain web
echo
run "$dlayer" --root "$root" --mountinfo none --daemon off diff web
echo
run "$dlayer" --root "$root" du
echo
run "$dlayer" --root "$root" verify || echo "(verify exit $?: as non-root the store cannot be given its owners (or trusted.* xattrs), so the layer dirs differ from their tars)"
base=$(for c in "$root"/image/*/layerdb/sha256/*; do [ -e "$c/parent" ] || cat "$c/cache-id"; done)
p=overlay2/$base/diff/etc/passwd
[ -d "$root/overlay2" ] || p=aufs/diff/$base/etc/passwd
echo
run "$dlayer" --root "$root" --mountinfo none whose "$p"
echo
run "$dlayer" --root "$root" --mountinfo none --daemon off report --html "$d/report.html" --verify quick
echo "(wrote $d/report.html: one self-contained page; open it in a browser)"
if [ "$(id -u)" = 0 ]; then
	echo
	"$mkstore" -driver aufs-committed "$d/aufs"
	run "$dlayer" --root "$d/aufs" --mountinfo none --daemon off explain --quiet web
fi

cat <<EOF

The demo store is kept in $d (rm -rf $(q "$d") when done). Try next:

  make install        # dlayer, its man page and bash/zsh/fish completions into /usr/local (PREFIX=...)
  dlayer --root $(q "$root") explain web
  dlayer --root $(q "$root") --format '{{.name}} {{.state.status}}' ps
  dlayer --root $(q "$root") whose $(q "$p")
  man dlayer
  sudo dlayer ps      # this host's /var/lib/docker, read-only

(Before make install, $dlayer is the same binary.)
EOF
