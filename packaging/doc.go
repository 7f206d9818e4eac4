// Package packaging holds the files the packages are built from (nfpm.yaml,
// the maintainer scripts, the systemd unit, the macOS and Windows install
// scripts; build.sh builds them all into dist/) and their tests: the
// packaged unit is the one platform/service renders, and the .deb installs,
// runs under a real systemd and removes cleanly (test/nspawn.sh).
package packaging
