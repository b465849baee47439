#!/usr/bin/env bash
# The main job on the shipped examples: provision the engine and the target image if missing, then
#  1. pyradiomics 3.0.1 for Python 3.10 (this repository's own [tool.wheelferry]): build, verify,
#     write init.sh and the review pack (review.html, review.json, sbom.cdx.json, pylock.toml);
#  2. the same for a clinical-imaging workstation that already holds numpy, pandas and SimpleITK
#     (examples/platform, its replica built by scripts/build-example-workstation.sh): only what the
#     workstation lacks is shipped, and the proof is the workstation's own start.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/provision.sh 3.10
.venv/bin/wheelferry build
.venv/bin/wheelferry verify
.venv/bin/wheelferry init-script
.venv/bin/wheelferry review

bash scripts/build-example-workstation.sh
.venv/bin/wheelferry build -p examples/platform
.venv/bin/wheelferry verify -p examples/platform
.venv/bin/wheelferry init-script -p examples/platform
.venv/bin/wheelferry review -p examples/platform
.venv/bin/wheelferry status -p examples/platform
echo
echo "Upload the folder wheelhouse/ to ~/persistent-home/my-tools and init.sh to ~/persistent-home/init.sh"
echo "(for the workstation: examples/platform/wheelhouse and examples/platform/init.sh)."
