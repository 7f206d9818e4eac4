#!/bin/sh
# The Windows tests of the built-in actions, run under Wine (Debian's wine64
# and the mingw-w64 compiler; .ci/run installs both). Go 1.26 needs
# ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: a tiny stand-in
# DLL (platform/actions/testdata/wine) is built into a throwaway prefix.
set -eu
cd "$(dirname "$0")/.."
wine=$(command -v wine64 || command -v wine || true)
if [ -z "$wine" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
	echo "skip: Windows tests need wine64 and gcc-mingw-w64-x86-64-win32 (apt-get install)"
	exit 0
fi
prefix=$(mktemp -d)
trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf "$prefix"' EXIT
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="bcryptprimitives=n"
# Setting the prefix up failed once in a CI run, silently, and passed when
# run again: say why, and try once more before giving up.
if ! "$wine" wineboot -i >"$prefix/wineboot.log" 2>&1; then
	echo "wineboot failed; once more. Its last lines:"
	tail -n 5 "$prefix/wineboot.log"
	wineserver -k >/dev/null 2>&1 || true
	if ! "$wine" wineboot -i >"$prefix/wineboot.log" 2>&1; then
		cat "$prefix/wineboot.log"
		exit 1
	fi
fi
x86_64-w64-mingw32-gcc -shared -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
	platform/actions/testdata/wine/bcryptprimitives.c -ladvapi32
GOOS=windows GOARCH=amd64 go test -count=1 -exec "$wine" ./platform/actions/
GOOS=windows GOARCH=amd64 go test -count=1 -exec "$wine" -run Windows ./platform/
GOOS=windows GOARCH=amd64 go test -count=1 -exec "$wine" -run Windows ./platform/control/
