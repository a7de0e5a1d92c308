#!/usr/bin/env bash
# The test suite: compile, then run every test file with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
node --test --test-reporter=spec dist/test/*.test.js
