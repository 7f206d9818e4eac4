#!/bin/sh
# Builds every package into dist/: .deb and .rpm for linux amd64 and arm64
# (nfpm v2.45.2, pinned), a macOS archive (both architectures, the launchd
# plist, install.sh) and a Windows zip (threatlockdown.exe, install.ps1).
#   packaging/build.sh            everything
#   packaging/build.sh deb amd64  one format and architecture (CI's install test)
# VERSION (default 0.1.0) is stamped into the binaries and the packages.
set -eu
cd "$(dirname "$0")/.."
VERSION=${VERSION:-0.1.0}
DIST=${DIST:-dist}
NFPM_VERSION=v2.45.2
formats=${1:-"deb rpm"}
arches=${2:-"amd64 arm64"}
export VERSION DIST

build() { # GOOS GOARCH OUT
	GOOS=$1 GOARCH=$2 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$3" .
}

# run_nfpm runs nfpm $NFPM_VERSION: the one on PATH when it is that version,
# else built from the module proxy by go run.
run_nfpm() {
	bin=$(command -v nfpm || true)
	if [ -n "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "nfpm/v2[[:space:]]*$NFPM_VERSION"; then
		"$bin" "$@"
	else
		GOFLAGS= go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" "$@"
	fi
}

mkdir -p "$DIST"
printf "*\n" > "$DIST/.gitignore" # build output, never committed
for arch in $arches; do
	build linux "$arch" "$DIST/linux_$arch/threatlockdown"
	for format in $formats; do
		# nfpm expands the environment in some fields only: the paths are put in here.
		sed -e "s|\${DIST}|$DIST|g" -e "s|\${ARCH}|$arch|g" packaging/nfpm.yaml > "$DIST/nfpm-$arch.yaml"
		ARCH=$arch run_nfpm package --config "$DIST/nfpm-$arch.yaml" --packager "$format" --target "$DIST/"
	done
done

if [ $# -eq 0 ]; then
	mac="$DIST/threatlockdown-$VERSION-macos"
	mkdir -p "$mac"
	build darwin amd64 "$mac/threatlockdown-darwin-amd64"
	build darwin arm64 "$mac/threatlockdown-darwin-arm64"
	cp packaging/macos/install.sh platform/service/testdata/threatlockdown.plist "$mac/"
	tar -C "$DIST" -czf "$mac.tar.gz" "$(basename "$mac")"
	rm -rf "$mac"

	win="$DIST/threatlockdown-$VERSION-windows-amd64"
	mkdir -p "$win"
	build windows amd64 "$win/threatlockdown.exe"
	cp packaging/windows/install.ps1 "$win/"
	(cd "$DIST" && rm -f "$(basename "$win").zip" && zip -qr "$(basename "$win").zip" "$(basename "$win")")
	rm -rf "$win"
fi
ls -l "$DIST"
