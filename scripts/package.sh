#!/bin/sh
# Builds the packages into dist/ (see packaging/build.sh).
exec "$(dirname "$0")/../packaging/build.sh" "$@"
