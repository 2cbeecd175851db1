#!/usr/bin/env bash
# One SHA-256 over every build input (poms, Java and CUDA sources, resources), without git, so
# that dist/device-check can be matched to the tree it was built from on a machine with no .git.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
find . \( -path ./dist -o -path ./.device -o -path '*/target' -o -path ./.git -o -path ./device-check-out \) -prune -o -type f \
  \( -name pom.xml -o -path '*/src/*' \) -print | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
