"""How the proof imports (incontainer/import_modules.py, a stdlib-only script): one interpreter per
distribution, and a fresh one for each module that failed, crashed, hung or exited there, so a
crash names its own module and every other module still gets its own, right verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wheelferry.incontainer import import_modules
from wheelferry.incontainer.import_modules import import_each

MODULES = {
    "m_a_fine": "VALUE = 1\n",
    "m_boom": "import ctypes\nctypes.string_at(0)\n",
    "m_late": "raise ImportError('m_late fails on its own')\n",
    "m_zz_fine": "VALUE = 2\n",
    "m_poison": "import sys\nsys.modules['m_victim_dep'] = None\n",
    "m_victim": "import m_victim_dep\n",
    "m_victim_dep": "VALUE = 3\n",
    "m_hang": "import time\ntime.sleep(120)\n",
    "m_exits": "import os\nos._exit(3)\n",
    "m_chained": "try:\n    import m_not_there\nexcept ImportError as exc:\n"
                 "    raise ImportError('install the extra') from exc\n",
    "m_says": "import sys\nprint('A module that was compiled using NumPy 1.x cannot be run',"
              " file=sys.stderr)\nraise ImportError('numpy.core.multiarray failed to import')\n",
    "m_noisy": "import sys\nprint('= [\"m_noisy\", {\"type\": \"Fake\"}]')\nprint('> x', end='')\n"
               "sys.stdout.flush()\n",
    "m_thread": "import threading, time\n"
                "threading.Thread(target=time.sleep, args=(120,)).start()\n",
}


@pytest.fixture(autouse=True)
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, text in MODULES.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return tmp_path


def test_a_crash_names_its_own_module_and_the_others_keep_their_verdicts() -> None:
    found = import_each(["m_a_fine", "m_boom", "m_late", "m_zz_fine"], sys.executable)
    assert list(found) == ["m_a_fine", "m_boom", "m_late", "m_zz_fine"]
    assert found["m_a_fine"] is None
    assert found["m_zz_fine"] is None
    boom = found["m_boom"]
    assert boom is not None
    assert boom["type"] == "crash"
    assert boom["message"] == "the import crashed the interpreter (SIGSEGV)"
    assert "m_boom.py" in boom["output"]  # faulthandler's traceback
    late = found["m_late"]
    assert late is not None
    assert (late["type"], late["message"]) == ("ImportError", "m_late fails on its own")


def test_a_failure_caused_by_another_module_is_judged_alone() -> None:
    found = import_each(["m_poison", "m_victim"], sys.executable)
    assert found == {"m_poison": None, "m_victim": None}


def test_a_hang_and_an_exit_are_named_and_the_rest_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_modules, "BATCH_TIMEOUT", 2)
    monkeypatch.setattr(import_modules, "ALONE_TIMEOUT", 2)
    found = import_each(["m_hang", "m_exits", "m_a_fine"], sys.executable)
    hang, exits = found["m_hang"], found["m_exits"]
    assert hang is not None
    assert exits is not None
    assert hang["message"] == "the import did not finish within 2 s"
    assert exits["message"] == "the interpreter exited with code 3 during the import"
    assert found["m_a_fine"] is None


def test_what_the_failure_names_and_prints_is_kept() -> None:
    found = import_each(["m_chained", "m_says"], sys.executable)
    chained, says = found["m_chained"], found["m_says"]
    assert chained is not None
    assert says is not None
    assert (chained["message"], chained["missing"]) == ("install the extra", "m_not_there")
    assert "compiled using NumPy 1.x" in says["output"]


def test_what_modules_print_or_leave_running_does_not_confuse_the_verdicts() -> None:
    found = import_each(["m_noisy", "m_thread", "m_late"], sys.executable)
    assert found["m_noisy"] is None
    assert found["m_thread"] is None  # its thread does not keep the interpreter waiting
    late = found["m_late"]
    assert late is not None
    assert late["type"] == "ImportError"


def test_the_script_imports_each_group_in_its_own_interpreter() -> None:
    done = subprocess.run([sys.executable, import_modules.__file__, sys.executable,
                           json.dumps([["m_a_fine", "m_late"], ["m_zz_fine"], []])],
                          capture_output=True, text=True, check=True, timeout=120)
    groups = json.loads(done.stdout.strip().splitlines()[-1])
    assert [list(group) for group in groups] == [["m_a_fine", "m_late"], ["m_zz_fine"], []]
    assert groups[0]["m_late"]["message"] == "m_late fails on its own"


def test_groups_run_side_by_side_and_answer_in_their_order(
        capsys: pytest.CaptureFixture[str]) -> None:
    groups = [["json"], ["wferryfx_no_such_module"], ["os", "os.path"], ["email"]]
    assert import_modules.main(["import_modules.py", sys.executable, json.dumps(groups)]) == 0
    answers = json.loads(capsys.readouterr().out)
    assert [sorted(answer) for answer in answers] == [sorted(group) for group in groups]
    assert answers[0] == {"json": None}
    assert answers[1]["wferryfx_no_such_module"]["type"] == "ModuleNotFoundError"
    assert answers[2] == {"os": None, "os.path": None}
    assert answers[3] == {"email": None}
