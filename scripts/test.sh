#!/bin/sh
# The whole test suite: format, vet, tests (the Linux firewall tests run for
# real as root, inside network namespaces they create; without root they
# skip and say why), and the cross-builds of every OS we ship for.
set -eu
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l . | grep -v '^vendor/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi

echo "== go vet (linux, darwin, windows, freebsd, netbsd, openbsd)"
go vet ./...
for os in darwin windows freebsd netbsd openbsd; do
	GOOS=$os go vet ./...
done

echo "== go build (cross)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 freebsd/amd64 netbsd/amd64 openbsd/amd64; do
	GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go build -o "$out/" . 
done

echo "== go test"
go test -count=1 ./...

echo "== go test -race (the daemon in-process, engine, store, watch, control socket, metrics)"
go test -count=1 -race . ./engine/... ./store/... ./watch/... ./platform/control/ ./metrics/

# A count, not a duration: with -fuzztime as a duration, Go's fuzzing
# coordinator can fail at the deadline with "context deadline exceeded" when a
# loaded machine delays its workers (golang/go#75804), with nothing found.
echo "== fuzz, briefly (FUZZTIME, default 20000x: 20,000 inputs a target, 2-9 s here; seeds in the tests and testdata/fuzz)"
for target in engine:FuzzAlert_Decode engine:FuzzValidJSON engine/ossecconf:FuzzParse store:FuzzDecode \
	store:FuzzDeflate platform/actions:FuzzStandalone platform/actions:FuzzAlertTarget; do
	# A renamed target must not pass silently as "no fuzz tests to fuzz".
	if ! go test -list "^${target#*:}\$" "./${target%%:*}/" | grep -qx "${target#*:}"; then
		echo "no fuzz target ${target}" >&2
		exit 1
	fi
	if ! out=$(go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "${FUZZTIME:-20000x}" "./${target%%:*}/" 2>&1); then
		echo "$out" >&2 # the failing input is saved under the package's testdata/fuzz
		exit 1
	fi
	echo "ok  ${target}"
done

echo "== Windows tests under Wine"
scripts/wine-test.sh
