#!/bin/sh
# Runs the end-to-end tests in a network namespace that has only loopback, so
# neither code-server, the extension nor Chromium can reach another host.
# Creating the namespace needs root (or user namespaces); without it the tests
# run on the normal network after a warning, still bound to 127.0.0.1.
#
# Usage: sh test/e2e/run.sh [extra node --test arguments]
# Run `node scripts/e2e-setup.mjs` first: it installs code-server and needs the npm registry.
set -eu
cd "$(dirname "$0")/../.."

# One test file at a time: each starts its own code-server and Chromium, and two
# cores cannot run two workbenches within the tests' timeouts. Test files among the
# arguments (*.test.mjs) run alone; without any, every file in test/e2e/ runs.
target=test/e2e/
for argument in "$@"; do
  case "$argument" in *.test.mjs) target= ;; esac
done
test_command="node --test --test-concurrency=1 --test-reporter=spec \"\$@\" $target"

if unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
  exec unshare -n sh -c "ip link set lo up && $test_command" sh "$@"
fi

echo "WARNING: could not create a network namespace (unshare -n needs root and the ip command); running the e2e tests without network isolation." >&2
exec sh -c "$test_command" sh "$@"
