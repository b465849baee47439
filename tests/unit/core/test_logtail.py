"""The end of a tool's log made readable (core/logtail.py): tracebacks cut to their message,
the line that explains a failure kept, the last lines otherwise."""

from __future__ import annotations

from tests.support import OLD_SDIST_LOG

from wheelferry.core.logtail import log_tail

TOOL_TRACEBACK = """\
Collecting wferryfx-pure==1.0
  Downloading wferryfx_pure-1.0.tar.gz (1.2 kB)
Traceback (most recent call last):
  File "/opt/wheelferry/bin/pip-compile", line 8, in <module>
    sys.exit(cli())
             ^^^^^
  File "/opt/wheelferry/lib/python3.10/site-packages/click/core.py", line 1157, in __call__
    return self.main(*args, **kwargs)

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/opt/wheelferry/lib/python3.10/site-packages/pip/_internal/network/download.py", line 9
    raise IncompleteDownloadError(link, received, expected)
pip._internal.exceptions.IncompleteDownloadError: Download failed: connection cut off


"""


def test_log_tail_cuts_tool_tracebacks_down_to_their_message() -> None:
    # Frames, their source lines and markers, and the chaining notes go; blank lines collapse
    # to one, and none is left at the end.
    assert log_tail(TOOL_TRACEBACK) == (
        "Collecting wferryfx-pure==1.0\n"
        "  Downloading wferryfx_pure-1.0.tar.gz (1.2 kB)\n"
        "\n"
        "pip._internal.exceptions.IncompleteDownloadError: Download failed: connection cut off")


def test_log_tail_keeps_the_last_lines_and_a_compilers_own_output() -> None:
    log = "".join(f"line {n}\n" for n in range(1, 41))
    log += ("wferryfx_broken/_native.c:3:5: error: expected ';' before '}' token\n"
            "    3 |     return 1\n"
            "      |             ^\n"
            "error: command '/usr/bin/gcc' failed with exit code 1\n")
    tail = log_tail(log, lines=6).splitlines()
    assert tail == ["line 39", "line 40",
                    "wferryfx_broken/_native.c:3:5: error: expected ';' before '}' token",
                    "    3 |     return 1",
                    "      |             ^",
                    "error: command '/usr/bin/gcc' failed with exit code 1"]
    assert len(log_tail(log).splitlines()) == 25


def test_log_tail_keeps_the_exception_that_explains_a_failure_deep_in_the_log() -> None:
    tail = log_tail(OLD_SDIST_LOG).splitlines()
    assert len(tail) <= 25
    assert ("      AttributeError: module 'wferryfx_buildtool' has no attribute 'old_api'"
            in tail)
    cause = tail.index(
        "      AttributeError: module 'wferryfx_buildtool' has no attribute 'old_api'")
    assert "  Getting requirements to build wheel: finished with status 'error'" in tail[:cause]
    assert tail[cause + 1] == "    ..."
    assert tail[-1].startswith("pip._internal.exceptions.FailedToPrepareCandidate")


# As pip 26 shows an exec'd setup.py failing: its last frame (File "<string>") has no source line,
# and the exception, one level less indented, follows it at once.
EXEC_SETUP_LOG = "".join(
    ["    \u2570\u2500> [5 lines of output]\n",
     "        Traceback (most recent call last):\n",
     '          File "/tmp/overlay/setuptools/build_meta.py", line 317, in run_setup\n',
     "            exec(code, locals())  # noqa: S102 # exec is intentional here\n",
     '          File "<string>", line 16, in <module>\n',
     "        AttributeError: module 'wferryfx_buildtool' has no attribute "
     "'generate_version_module'\n",
     "        [end of output]\n"]
    + [f"    pip._vendor.resolvelib: frame {n}\n" for n in range(40)]
    + ["pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'wferryfx-oldmeta' "
       "when getting requirements to build wheel\n"])


def test_log_tail_keeps_an_exception_that_follows_a_frame_without_source() -> None:
    tail = log_tail(EXEC_SETUP_LOG).splitlines()
    assert ("        AttributeError: module 'wferryfx_buildtool' has no attribute "
            "'generate_version_module'") in tail
    assert not any("exec(code" in line or "<string>" in line for line in tail)


def test_a_compiler_probe_that_fails_is_not_taken_for_the_cause() -> None:
    # numpy.distutils tries CPU features while building scikit-fmm; their failures are expected.
    log = ("WARN: CCompilerOpt.dist_test[637] : Command (gcc -c /b/numpy/distutils/checks/"
           "cpu_avx512_knl.c) failed\n"
           "In file included from /usr/lib/gcc/x86_64-linux-gnu/12/include/immintrin.h:51,\n"
           "/usr/lib/gcc/x86_64-linux-gnu/12/include/avx512erintrin.h:55:20: error: '__W' is used "
           "uninitialized [-Werror=uninitialized]\n"
           + "compiling\n" * 40
           + "skfmm/pheap.cpp:3:10: fatal error: stdint.h: No such file or directory\n"
           + "more output\n" * 40
           + "error: Command \"g++ -c skfmm/pheap.cpp\" failed with exit status 1\n")
    shown = log_tail(log)
    assert "skfmm/pheap.cpp:3:10: fatal error: stdint.h" in shown
    assert "avx512erintrin.h" not in shown
