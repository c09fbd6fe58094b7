"""relaxbook.executor: notebooks on warm kernels give what a new kernel would give (the site-wide check is
tests/test_reproducible.py, which builds once with and once without warm kernels)."""
from __future__ import annotations

import json

import nbformat
import pytest

from conftest import ends_within
from relaxbook import executor


def notebook(*cells: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def text_output(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_one_kernel_runs_notebooks_in_turn_and_each_starts_from_a_clean_state(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    dirty = notebook("secret = 41\nimport relaxbook.paths as p\np.DATA = 'changed'\n"
                     "import matplotlib\nmatplotlib.rcParams['font.size'] = 31\n"
                     "import warnings\nwarnings.simplefilter('ignore')",
                     "import os\nprint(os.getcwd())", "# the longest notebook runs first\n" + "#" * 2000)
    probe = notebook("import os, json, warnings, matplotlib, relaxbook.paths\n"
                     "print(json.dumps({'secret': 'secret' in globals(), 'cwd': os.getcwd(),\n"
                     "  'data': str(relaxbook.paths.DATA), 'font': matplotlib.rcParams['font.size'],\n"
                     "  'filters': len(warnings.filters)}))")
    jobs = [executor.Job("dirty", dirty, str(tmp_path / "one")), executor.Job("probe", probe, str(tmp_path / "two"))]
    seen = []
    executor.run(jobs, n_workers=1, log=lambda job, msg: seen.append((job.key, msg)))
    assert all(j.done and j.error is None for j in jobs), [j.error for j in jobs]
    assert text_output(dirty.cells[1]).strip() == str(tmp_path / "one")
    state = json.loads(text_output(probe.cells[0]))
    assert state["secret"] is False
    assert state["cwd"] == str(tmp_path / "two")
    assert state["data"] != "changed"  # helper modules are imported afresh
    assert state["font"] != 31
    assert [c.execution_count for c in probe.cells] == [1]  # a new session: counts restart
    assert [c.execution_count for c in dirty.cells] == [1, 2, 3]
    assert [k for k, m in seen if m.startswith("Executed")] == ["dirty", "probe"]  # one kernel: in turn


def test_a_warm_kernel_freezes_its_imported_heap_and_still_collects_a_notebooks_garbage(tmp_path):
    """warm_up imports pyplot and glue and freezes the heap (IPython's reset runs a full collection before each
    notebook: 0.13 s unfrozen); cyclic garbage a notebook leaves is still collectable: only the warm-up's heap is frozen."""
    leak = notebook("import weakref\nclass Cycle: pass\nc = Cycle(); c.me = c\n"
                    "import builtins; builtins._relaxbook_probe = weakref.ref(c)")
    probe = notebook("import gc, sys, builtins\ngc.collect()\n"
                     "print(gc.get_freeze_count() > 50000, 'matplotlib.pyplot' in sys.modules,\n"
                     "      'myst_nb' in sys.modules, builtins._relaxbook_probe() is None)")
    jobs = [executor.Job("leak", leak, str(tmp_path)), executor.Job("probe", probe, str(tmp_path))]
    jobs[0].cost = 1.0  # runs first
    executor.run(jobs, n_workers=1)
    assert all(j.done for j in jobs), [j.error for j in jobs]
    assert text_output(probe.cells[0]).split() == ["True"] * 4


def test_warm_kernels_talk_over_private_unix_sockets_and_leave_nothing_behind(tmp_path):
    """IPC, not TCP on localhost (reachable by any local user; ipykernel warns that it is unencrypted)."""
    import tempfile
    from pathlib import Path

    before = set(Path(tempfile.gettempdir()).glob("relaxbook-kernel-*"))
    probe = notebook("from ipykernel.kernelapp import IPKernelApp\nimport os, stat\napp = IPKernelApp.instance()\n"
                     "print(app.transport, os.path.isabs(app.ip),\n"
                     "      oct(stat.S_IMODE(os.stat(os.path.dirname(app.ip)).st_mode) & 0o777))")
    job = executor.Job("probe", probe, str(tmp_path))
    executor.run([job], n_workers=1)
    assert job.done, job.error
    assert text_output(probe.cells[0]).split() == ["ipc", "True", "0o700"]
    assert set(Path(tempfile.gettempdir()).glob("relaxbook-kernel-*")) == before


def test_a_failing_notebook_is_reported_not_cached_and_the_kernel_goes_on(tmp_path):
    bad = notebook("raise ValueError('broken chapter')")
    dead = notebook("import os\nos._exit(1)")
    good = notebook("print('fine')")
    jobs = [executor.Job(k, nb, str(tmp_path)) for k, nb in (("bad", bad), ("dead", dead), ("good", good))]
    executor.run(jobs, n_workers=1)
    by_key = {j.key: j for j in jobs}
    assert not by_key["bad"].done and "broken chapter" in by_key["bad"].error
    assert not by_key["dead"].done and by_key["dead"].error
    assert by_key["good"].done and text_output(good.cells[0]) == "fine\n"


@pytest.mark.parametrize("setting, jobs, expected", [("0", 5, 0), ("3", 5, 3), ("3", 2, 2), ("", 0, 0)])
def test_number_of_warm_kernels(monkeypatch, setting, jobs, expected):
    monkeypatch.setenv("RELAXBOOK_KERNELS", setting)
    assert executor.workers(jobs) == expected


def test_longest_known_jobs_start_first_then_the_unknown_by_code_size():
    jobs = [executor.Job("short", notebook("x = 1"), "/", cost=0.5),
            executor.Job("new-small", notebook("x = 1"), "/"),
            executor.Job("long", notebook("x = 1"), "/", cost=3.0),
            executor.Job("new-big", notebook("x = 1\n" * 50), "/")]
    assert [j.key for j in sorted(jobs, key=executor.schedule_key)] == ["long", "short", "new-big", "new-small"]
    jobs.append(executor.Job("new-heavy-helpers", notebook("x = 1"), "/", weight=10_000))  # runs a big helper module
    assert [j.key for j in sorted(jobs, key=executor.schedule_key)][2] == "new-heavy-helpers"


def test_runs_when_the_caller_already_has_an_event_loop(tmp_path):
    """As inside a notebook or next to Playwright's sync API: asyncio.run() would refuse, so a thread is used."""
    import asyncio
    import threading

    job = executor.Job("one", notebook("print(6 * 7)"), str(tmp_path))

    async def caller():
        asyncio.get_running_loop()  # there is one
        executor.run([job], n_workers=1)

    thread = threading.Thread(target=lambda: asyncio.run(caller()))  # a fresh thread: no loop of pytest's around
    thread.start()
    thread.join()
    assert job.done and text_output(job.nb.cells[0]) == "42\n"


# --- kernels kept warm between builds (leases) ----------------------------------------------------------------

PID = "import os\nprint(os.getpid())"


def kernel_pid(registry, keep, **env) -> tuple[int, list[str]]:
    """Run one notebook that prints its kernel's pid, with leases in ``registry``; the pid and the log lines."""
    job, seen = executor.Job("pid", notebook(PID), str(registry.parent)), []
    executor.run([job], n_workers=1, log=lambda j, msg: seen.append(msg), registry=registry, keep=keep)
    assert job.done, job.error
    return int(text_output(job.nb.cells[0])), seen


def test_a_kernel_kept_warm_is_taken_over_by_the_next_run_and_ends_with_its_lease_folder(tmp_path):
    import shutil
    import stat

    registry = tmp_path / "kernels"
    first, log1 = kernel_pid(registry, keep=60)
    leases = list(registry.glob("*.json"))
    assert len(leases) == 1 and executor.leased_pids(registry) == [first]
    assert stat.S_IMODE(registry.stat().st_mode) == 0o700 and stat.S_IMODE(leases[0].stat().st_mode) == 0o600
    second, log2 = kernel_pid(registry, keep=60)
    assert second == first  # the same process: no kernel start, no imports again
    assert "kept from an earlier build" in log2[0] and "kept from an earlier build" not in log1[0]
    shutil.rmtree(registry)  # rm -rf _build
    assert ends_within(first, 10)


def test_with_no_time_to_keep_the_kernel_ends_with_the_run(tmp_path):
    pid, _ = kernel_pid(tmp_path / "kernels", keep=0)
    assert ends_within(pid, 10) and not list((tmp_path / "kernels").iterdir())


def test_an_idle_kernel_ends_itself_when_its_time_is_up(tmp_path):
    pid, _ = kernel_pid(tmp_path / "kernels", keep=1)
    assert ends_within(pid, 15)
    assert not list((tmp_path / "kernels").glob("*.json"))  # its lease is gone too: nobody takes it over


def test_a_kernel_started_under_another_environment_is_not_taken_over_but_shut_down(tmp_path, monkeypatch):
    registry = tmp_path / "kernels"
    old, _ = kernel_pid(registry, keep=60)
    monkeypatch.setenv("RELAXBOOK_TEST_SETTING", "changed")  # kernels inherit the environment: it is part of the key
    new, _ = kernel_pid(registry, keep=0)
    assert new != old and ends_within(old, 10) and ends_within(new, 10)


def test_a_kernel_another_build_holds_is_left_to_it(tmp_path):
    import fcntl
    import os

    registry = tmp_path / "kernels"
    held, _ = kernel_pid(registry, keep=60)
    fd = os.open(next(registry.glob("*.json")), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running build does
    try:
        other, _ = kernel_pid(registry, keep=0)
        assert other != held and ends_within(other, 10)
        assert not ends_within(held, 1.5)  # the held kernel is not touched
    finally:
        os.close(fd)
    executor.run([executor.Job("pid", notebook(PID), str(tmp_path))], 1, registry=registry, keep=0)
    assert ends_within(held, 10)


def test_kept_kernels_do_not_hold_the_output_pipe_of_the_build_that_started_them(tmp_path):
    """`make book | tee` and CI runners wait for every writer of the pipe: a build must not hand its stdout on."""
    import subprocess
    import sys

    registry = tmp_path / "kernels"
    code = ("import nbformat, sys\nfrom relaxbook import executor\nnb = nbformat.v4.new_notebook()\n"
            "nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'P', 'language': 'python'}\n"
            "nb.cells = [nbformat.v4.new_code_cell('print(1)')]\n"
            f"executor.run([executor.Job('x', nb, {str(tmp_path)!r})], 1, registry={str(registry)!r}, keep=60)\n"
            "print('built')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "built", out.stderr
    pids = executor.leased_pids(registry)
    assert len(pids) == 1 and not ends_within(pids[0], 0.5)  # the kernel lives on, yet the pipe was closed
    executor.run([executor.Job("pid", notebook(PID), str(tmp_path))], 1, registry=registry, keep=0)
    assert ends_within(pids[0], 10)


def test_a_lease_lapses_when_gone_or_idle_past_its_time_never_while_held(tmp_path):
    import fcntl
    import os
    import time

    lease = tmp_path / "k.json"
    assert executor.lease_lapsed(str(lease), 60)  # no file
    lease.write_text("{}")
    assert not executor.lease_lapsed(str(lease), 60)  # let go just now
    old = time.time() - 120
    os.utime(lease, (old, old))
    fd = os.open(lease, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    assert not executor.lease_lapsed(str(lease), 60) and lease.exists()  # held by a build
    os.close(fd)
    assert executor.lease_lapsed(str(lease), 60) and not lease.exists()  # idle past its time: removed


@pytest.mark.parametrize("setting, expected", [("", executor.TTL_DEFAULT), ("0", 0.0), ("2.5", 2.5)])
def test_time_to_keep_kernels(monkeypatch, setting, expected):
    monkeypatch.setenv("RELAXBOOK_KERNEL_TTL", setting)
    assert executor.ttl() == expected


def test_a_bad_time_to_keep_kernels_is_named(monkeypatch):
    monkeypatch.setenv("RELAXBOOK_KERNEL_TTL", "ten minutes")
    with pytest.raises(SystemExit, match="RELAXBOOK_KERNEL_TTL must be a number of seconds, not 'ten minutes'"):
        executor.ttl()


def test_the_last_build_sets_how_long_a_taken_over_kernel_stays_and_that_setting_is_not_part_of_its_key(
        tmp_path, monkeypatch):
    registry = tmp_path / "kernels"
    first, _ = kernel_pid(registry, keep=600)
    monkeypatch.setenv("RELAXBOOK_KERNEL_TTL", "1")  # the build's own setting: no reason to start another kernel
    monkeypatch.setenv("RELAXBOOK_KERNELS", "1")
    second, _ = kernel_pid(registry, keep=1)
    assert second == first
    assert ends_within(first, 15)  # kept for 1 s by the last build, not 600 s as when it was started


def test_letting_go_of_a_kernel_twice_does_nothing_the_second_time(tmp_path):
    """A dead kernel is let go before its replacement starts; if that start fails, the worker lets go again: the
    lease's file descriptor must not be closed twice (it may belong to something else by then)."""
    import asyncio
    import os

    registry = tmp_path / "kernels"
    pid, _ = kernel_pid(registry, keep=60)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # its own thread: Playwright's tests leave an event loop in this one
        kernel = pool.submit(asyncio.run, executor.claim(registry, executor.compat_key("python3"))).result()
    assert kernel is not None and kernel.info["pid"] == pid
    fd = kernel.fd
    executor.release(kernel, keep=0)
    other = os.open(os.devnull, os.O_RDONLY)  # likely reuses the number just freed
    try:
        executor.release(kernel, keep=0)
        os.fstat(other)  # still open
    finally:
        os.close(other)
    assert kernel.fd == -1 and fd >= 0 and ends_within(pid, 10)
