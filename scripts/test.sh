#!/usr/bin/env bash
# The test suite: compile and bundle the CLI (what `bin` runs), then run every test file with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
node scripts/bundle-cli.mjs
node --test --test-reporter=spec dist/test/*.test.js
