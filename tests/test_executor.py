"""relaxbook.ext.executor: notebooks on warm kernels give what a new kernel would give (the site-wide check is
tests/test_reproducible.py, which builds once with and once without warm kernels)."""

from __future__ import annotations

import json

import nbformat
import pytest

from conftest import ends_within
from relaxbook.ext import executor


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
    dirty = notebook(
        "secret = 41\nimport relaxbook.data.paths as p\np.DATA = 'changed'\n"
        "import matplotlib\nmatplotlib.rcParams['font.size'] = 31\n"
        "import warnings\nwarnings.simplefilter('ignore')",
        "import os\nprint(os.getcwd())",
        "# the longest notebook runs first\n" + "#" * 2000,
    )
    probe = notebook(
        "import os, json, warnings, matplotlib, relaxbook.data.paths\n"
        "print(json.dumps({'secret': 'secret' in globals(), 'cwd': os.getcwd(),\n"
        "  'data': str(relaxbook.data.paths.DATA), 'font': matplotlib.rcParams['font.size'],\n"
        "  'filters': len(warnings.filters)}))"
    )
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
    notebook); cyclic garbage a notebook leaves is still collectable: only the warm-up's heap is frozen."""
    leak = notebook(
        "import weakref\nclass Cycle: pass\nc = Cycle(); c.me = c\n"
        "import builtins; builtins._relaxbook_probe = weakref.ref(c)"
    )
    probe = notebook(
        "import gc, sys, builtins\ngc.collect()\n"
        "print(gc.get_freeze_count() > 50000, 'matplotlib.pyplot' in sys.modules,\n"
        "      'myst_nb' in sys.modules, builtins._relaxbook_probe() is None)"
    )
    jobs = [executor.Job("leak", leak, str(tmp_path)), executor.Job("probe", probe, str(tmp_path))]
    jobs[0].cost = 1.0  # runs first
    executor.run(jobs, n_workers=1)
    assert all(j.done for j in jobs), [j.error for j in jobs]
    assert text_output(probe.cells[0]).split() == ["True"] * 4


def test_warm_kernels_talk_over_private_unix_sockets_and_leave_nothing_behind(tmp_path):
    """IPC, not TCP on localhost (reachable by any local user; ipykernel warns that it is unencrypted)."""
    from pathlib import Path

    probe = notebook(
        "from ipykernel.kernelapp import IPKernelApp\nimport os, stat\napp = IPKernelApp.instance()\n"
        "print(app.transport, os.path.isabs(app.ip),\n"
        "      oct(stat.S_IMODE(os.stat(os.path.dirname(app.ip)).st_mode) & 0o777), os.path.dirname(app.ip))"
    )
    job = executor.Job("probe", probe, str(tmp_path))
    executor.run([job], n_workers=1)
    assert job.done, job.error
    transport, absolute, mode, folder = text_output(probe.cells[0]).split()
    assert (transport, absolute, mode) == ("ipc", "True", "0o700")
    # its private socket folder is gone (only this run's: other builds may be running kernels meanwhile)
    assert Path(folder).name.startswith("relaxbook-kernel-") and not Path(folder).exists()


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
    jobs = [
        executor.Job("short", notebook("x = 1"), "/", cost=0.5),
        executor.Job("new-small", notebook("x = 1"), "/"),
        executor.Job("long", notebook("x = 1"), "/", cost=3.0),
        executor.Job("new-big", notebook("x = 1\n" * 50), "/"),
    ]
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


def test_every_kernel_a_run_starts_has_ended_when_the_run_returns(tmp_path):
    """No process started by a build outlives it: the pool's kernels are shut down before run() returns."""
    jobs = [executor.Job(f"pid{i}", notebook("import os\nprint(os.getpid())"), str(tmp_path)) for i in range(3)]
    executor.run(jobs, n_workers=2)
    pids = {int(text_output(j.nb.cells[0])) for j in jobs}
    assert 1 <= len(pids) <= 2  # at most two kernels, reused
    assert all(ends_within(pid, 0.5) for pid in pids)
