"""Run the stale notebooks before Sphinx reads them: a few warm kernels, in parallel.

myst-nb executes a stale notebook when Sphinx reads it: one new kernel per notebook, one notebook at a time, each
paying the kernel start and the imports of pandas and matplotlib again (about 1.5 s of every chapter). :mod:`.cache`
instead hands every notebook that the jupyter-cache does not hold to :func:`run`, which executes them on
``workers`` kernels at once, each kernel reused from notebook to notebook, and stores the results in the cache;
myst-nb then finds every notebook cached and only renders it.

A reused kernel must not leak state from one chapter into the next. Before each notebook :func:`reset_kernel`
gives it a fresh IPython session (empty namespace, execution count 1), drops every ``relaxbook`` module so the
helpers are imported afresh, closes figures, restores matplotlib's settings and the warning filters, and changes to
the notebook's folder. Third-party modules stay imported: that is the saving. ``tests/test_reproducible.py`` builds
the book once this way and once with one new kernel per notebook (``RELAXBOOK_KERNELS=0``) and requires
byte-identical sites.

A notebook that fails here is not cached, so myst-nb runs it again in a new kernel and reports the error as usual.
``RELAXBOOK_KERNELS`` sets the number of warm kernels (default: the number of CPUs, at most 4; 0 turns this off).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field

WARM_UP = "import relaxbook.ext.executor; relaxbook.ext.executor.warm_up()"
TRANSPORT = "ipc" if os.name == "posix" else "tcp"


def workers(jobs: int) -> int:
    """How many warm kernels to start for ``jobs`` notebooks (``RELAXBOOK_KERNELS`` overrides the CPU count)."""
    setting = os.environ.get("RELAXBOOK_KERNELS", "").strip()
    wanted = int(setting) if setting.isdigit() else min(os.cpu_count() or 1, 4)
    return max(0, min(wanted, jobs))


@dataclass
class Job:
    """One notebook to execute: ``key`` names it in the results, ``cwd`` is the folder it runs in."""

    key: str
    nb: object  # nbformat.NotebookNode, executed in place
    cwd: str
    kernel_name: str = "python3"
    timeout: int | None = None
    cost: float | None = None  # expected seconds (its last execution), to start the longest first
    weight: int | None = None  # when its cost is unknown (a cold build): the size of the code it runs, bytes
    seconds: float = 0.0
    error: str | None = None
    done: bool = field(default=False)


# --- run inside the kernel ---------------------------------------------------------------------------------------


def warm_up() -> None:
    """Once per kernel: import what every chapter imports, remember the clean global state to restore, and freeze
    the heap.

    ``gc.freeze`` takes the ~140,000 objects of pandas, matplotlib and IPython out of the garbage collector's
    sight. IPython's reset (before each notebook) runs a full collection, which otherwise walks them all again:
    0.13 s per notebook, measured; 0.005 s frozen. Frozen objects are still freed by reference counting.
    """
    import gc
    import warnings

    import matplotlib
    import matplotlib.pyplot  # noqa: F401  (the imports nearly every chapter pays)
    import pandas  # noqa: F401
    from IPython import get_ipython
    from myst_nb import glue  # noqa: F401

    get_ipython()._relaxbook_clean = {"rc": dict(matplotlib.rcParams), "filters": list(warnings.filters)}
    gc.freeze()


def reset_kernel(cwd: str) -> None:
    """Before each notebook: the state a new kernel would have, apart from third-party modules already imported."""
    import sys
    import warnings

    from IPython import get_ipython

    shell = get_ipython()
    clean = shell._relaxbook_clean
    shell.reset(new_session=True)
    for name in [m for m in sys.modules if m == "relaxbook" or m.startswith("relaxbook.")]:
        del sys.modules[name]
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if "matplotlib" in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sys.modules["matplotlib"].rcParams.update(clean["rc"])
    warnings.filters[:] = clean["filters"]
    getattr(warnings, "_filters_mutated", lambda: None)()  # forget which warnings were already shown
    os.chdir(cwd)


# --- run in the build process ------------------------------------------------------------------------------------


async def _silent(kc, code: str, timeout: float = 120) -> None:
    """Run ``code`` without touching the execution count; raise if it fails."""
    msg_id = kc.execute(code, silent=True, store_history=False)
    while True:
        reply = await kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"kernel set-up failed: {reply['content'].get('evalue', reply['content'])}")


async def _worker(queue: list[Job], kernel_name: str, log) -> None:
    from jupyter_client.manager import AsyncKernelManager

    # IPC: Unix sockets in a private temporary folder (absolute: the kernel runs in the notebook's folder), rather
    # than TCP on localhost, which any local user could reach and over which ipykernel warns that code and outputs
    # travel unencrypted
    sockets = tempfile.mkdtemp(prefix="relaxbook-kernel-") if TRANSPORT == "ipc" else None
    km = AsyncKernelManager(kernel_name=kernel_name, transport=TRANSPORT)
    if sockets:
        km.ip = os.path.join(sockets, "k")
    try:
        await km.start_kernel(cwd=queue[0].cwd if queue else None)
        kc = km.client()
        kc.start_channels()
        try:
            await _serve(km, kc, queue, kernel_name, log)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
    finally:
        if sockets:
            shutil.rmtree(sockets, ignore_errors=True)


async def _serve(km, kc, queue: list[Job], kernel_name: str, log) -> None:
    """Run the queued notebooks one after another on the started kernel ``km``/``kc``."""
    from nbclient import NotebookClient

    await kc.wait_for_ready(timeout=60)
    await _silent(kc, WARM_UP)
    while queue:
        job = queue.pop(0)
        log(job, "Executing notebook in a warm kernel")
        start = time.perf_counter()
        try:
            await _silent(kc, f"import relaxbook.ext.executor; relaxbook.ext.executor.reset_kernel({job.cwd!r})")
            client = NotebookClient(
                job.nb, km=km, timeout=job.timeout, allow_errors=False, record_timing=False, kernel_name=kernel_name
            )
            client.kc = kc
            await client.async_execute()
        except Exception as exc:  # noqa: BLE001 - any failure: leave the notebook to myst-nb
            job.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            if not await km.is_alive():
                await km.restart_kernel(now=True)
                await kc.wait_for_ready(timeout=60)
                await _silent(kc, WARM_UP)
        else:
            job.done = True
        job.seconds = time.perf_counter() - start
        log(
            job,
            f"Executed notebook in {job.seconds:.2f} seconds"
            if job.done
            else f"Failed in a warm kernel ({job.error}); myst-nb will run it in a new kernel",
        )


def schedule_key(job: Job) -> tuple:
    """Longest known run first; jobs of unknown cost after, the most code (the page's and its helpers') first."""
    code = job.weight if job.weight is not None else sum(len(c.source) for c in job.nb.cells if c.cell_type == "code")
    return (job.cost is None, -(job.cost or 0.0), -code)


def run(jobs: list[Job], n_workers: int, log=lambda job, msg: None) -> list[Job]:
    """Execute ``jobs`` on ``n_workers`` warm kernels, longest first (by ``cost``; jobs of unknown cost after, the
    most code first); returns the jobs, each with ``done`` (outputs now in ``job.nb``), ``seconds`` and, on failure,
    ``error``."""
    import asyncio

    if not jobs or n_workers < 1:
        return jobs
    by_kernel: dict[str, list[Job]] = {}
    for job in sorted(jobs, key=schedule_key):
        by_kernel.setdefault(job.kernel_name, []).append(job)

    async def main():
        tasks = []
        for name, queue in by_kernel.items():
            tasks += [_worker(queue, name, log) for _ in range(min(n_workers, len(queue)))]
        await asyncio.gather(*tasks)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case (a Sphinx build): no event loop in this thread
        asyncio.run(main())
    else:  # called from code that runs an event loop (e.g. a notebook, Playwright): use a thread of our own
        import threading

        failure: list[BaseException] = []
        thread = threading.Thread(target=lambda: _catch(failure, lambda: asyncio.run(main())), name="relaxbook-kernels")
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
    return jobs


def _catch(failure: list, call) -> None:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
        failure.append(exc)
