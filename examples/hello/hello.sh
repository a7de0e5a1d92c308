#!/bin/sh
# Prints the greeting; --check only proves the script runs.
[ "$1" = "--check" ] && exit 0
echo "${GREETING:-Hello}, running on $(uname -m)"
