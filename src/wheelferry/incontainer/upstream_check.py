"""Runs in a short-lived container of the target image, online, with the project's index: for
each distribution, the release as published (its wheel for this Python, else its sdist built
here by pip as pip builds it, isolated), with what pip resolves for it, installed into a scratch
venv; then the given modules imported there, isolated as in the proof (import_modules.py).

Reads /job/job.json {"upstream": [{distribution, version, modules}]}; prints one line
`WHEELFERRY-UPSTREAM <json>`: distribution -> {installed: true, imports: module -> error or
null} or {installed: false, output: the end of pip's output}.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the script runs alone in the target's Python
    from wheelferry.incontainer import messages

JOB = Path("/job/job.json")
PYTHON = sys.executable
HERE = Path(__file__).resolve().parent


def run(cmd: list[str]) -> tuple[int, str]:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", check=False)
    return done.returncode, done.stdout


def check(name: str, version: str, modules: list[str], scratch: Path) -> messages.UpstreamReport:
    venv = scratch / "venv"
    python = str(venv / "bin" / "python")
    code, output = run([PYTHON, "-m", "venv", "--without-pip", str(venv)])
    if code == 0:
        code, output = run([python, "-c", "import sysconfig; "
                            "print(sysconfig.get_paths()['purelib'])"])
    if code == 0:
        site = output.strip().splitlines()[-1]
        print(f"$ pip install {name}=={version}  (as published, into a scratch venv)", flush=True)
        code, output = run([PYTHON, "-m", "pip", "install", "--target", site, "--prefer-binary",
                            "--retries", "1", "--timeout", "15", "--no-warn-script-location",
                            f"{name}=={version}"])
    if code != 0:
        return {"installed": False, "output": output.strip()[-2000:]}
    code, output = run([PYTHON, str(HERE / "import_modules.py"), python, json.dumps([modules])])
    lines = output.strip().splitlines()
    if code != 0 or not lines:
        return {"installed": False, "output": output.strip()[-2000:]}
    verdicts: dict[str, messages.ImportErrorReport | None] = json.loads(lines[-1])[0]
    for module, error in verdicts.items():
        status = "ok" if error is None else f"did not import: {error['type']}"
        print(f"$ import {module}  ({name} {version}, published): {status}", flush=True)
    return {"installed": True, "imports": verdicts}


def main() -> int:
    job = json.loads(JOB.read_text())
    results: dict[str, messages.UpstreamReport] = {}
    for item in job["upstream"]:
        scratch = Path(tempfile.mkdtemp(prefix="wheelferry-upstream-"))
        try:
            results[item["distribution"]] = check(item["distribution"], item["version"],
                                                  list(item["modules"]), scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    print("WHEELFERRY-UPSTREAM " + json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
