#!/usr/bin/env bash
# The main job on the shipped example (pyradiomics 3.0.1 for Python 3.10): provision the engine
# and the target image if missing, then build, verify and write init.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/provision.sh 3.10
.venv/bin/wheelferry build
.venv/bin/wheelferry verify
.venv/bin/wheelferry init-script
echo
echo "Upload the folder wheelhouse/ to ~/persistent-home/my-tools and init.sh to ~/persistent-home/init.sh."
