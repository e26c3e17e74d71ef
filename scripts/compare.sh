#!/usr/bin/env bash
# The main job: random search, regularized evolution and local search on the NAS-Bench-201 table
# (CIFAR-10, CIFAR-100, ImageNet16-120; 500 runs each at a budget of 150 distinct architectures),
# printed as one table. Extra arguments go to `nascent compare` (e.g. --data DIR --runs 100).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build_cli.sh
build_nascent_cli
"$build/apps/nascent/nascent" compare "$@"
