"""Run the stale notebooks before Sphinx reads them: a few warm kernels, in parallel, kept warm between builds.

myst-nb executes a stale notebook when Sphinx reads it: one new kernel per notebook, one notebook at a time, each
paying the kernel start and the imports of pandas and matplotlib again (about 1.5 s of every chapter). ``relaxbook.cache``
instead hands every notebook that the jupyter-cache does not hold to :func:`run`, which executes them on
``workers`` kernels at once, each kernel reused from notebook to notebook, and stores the results in the cache;
myst-nb then finds every notebook cached and only renders it.

A reused kernel must not leak state from one chapter into the next. Before each notebook :func:`reset_kernel`
gives it a fresh IPython session (empty namespace, execution count 1), drops every ``relaxbook`` module so the
helpers are imported afresh, closes figures, restores matplotlib's settings and the warning filters, and changes to
the notebook's folder. Third-party modules stay imported: that is the saving. ``tests/test_reproducible.py`` builds
the book once this way and once with one new kernel per notebook (``RELAXBOOK_KERNELS=0``) and requires
byte-identical sites.

**Kept warm between builds.** Starting a kernel and importing pandas and matplotlib costs about 1 s, which was a
fifth of an incremental build after a CSV edit. So a build leaves its kernels running for ``RELAXBOOK_KERNEL_TTL``
seconds (default 600; 0 shuts them down at the end of the build) and the next build of the same book takes them
over. Each kernel has a *lease*: a JSON file in the registry folder (``_build/.jupyter_cache/kernels``, mode 0700;
the file 0600) naming its process and connection file. A build locks the lease (``flock``) while it uses the kernel,
so two builds never share one, and touches it when it lets go. A watchdog thread in the kernel exits the kernel
when its lease is gone (``rm -rf _build``, ``jupyter-book clean --all``) or when no build has held it for the TTL.
A kernel is taken over only if it was started for the same Python, the same installed packages (the mtime of
site-packages), the same environment variables (bar a few that name the shell's state) and the same version of
this file; any other kernel is shut down. Kernels are started in their own session with no terminal and their
output in their socket folder, so a pipe such as ``make book | tee`` ends when the build does.

A notebook that fails here is not cached, so myst-nb runs it again in a new kernel and reports the error as usual.
``RELAXBOOK_KERNELS`` sets the number of warm kernels (default: the number of CPUs, at most 4; 0 turns this off).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

WARM_UP = "import relaxbook.executor; relaxbook.executor.warm_up({lease!r}, {ttl!r}, {sockets!r})"
TRANSPORT = "ipc" if os.name == "posix" else "tcp"
TTL_DEFAULT = 600.0
# environment variables that tell the shell's state, not the kernel's: a kernel started under other values still fits
VOLATILE_ENV = {"_", "OLDPWD", "PWD", "SHLVL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "JPY_PARENT_PID",
                "COLUMNS", "LINES", "PYTEST_CURRENT_TEST",
                "RELAXBOOK_KERNEL_TTL", "RELAXBOOK_KERNELS"}  # read by the build, never by a kernel


def workers(jobs: int) -> int:
    """How many warm kernels to start for ``jobs`` notebooks (``RELAXBOOK_KERNELS`` overrides the CPU count)."""
    setting = os.environ.get("RELAXBOOK_KERNELS", "").strip()
    wanted = int(setting) if setting.isdigit() else min(os.cpu_count() or 1, 4)
    return max(0, min(wanted, jobs))


def ttl() -> float:
    """Seconds a kernel stays warm after a build (``RELAXBOOK_KERNEL_TTL``; 0: shut down at the end)."""
    setting = os.environ.get("RELAXBOOK_KERNEL_TTL", "").strip()
    try:
        return max(0.0, float(setting)) if setting else TTL_DEFAULT
    except ValueError:
        raise SystemExit(f"RELAXBOOK_KERNEL_TTL must be a number of seconds, not {setting!r}") from None


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

def warm_up(lease: str | None = None, ttl: float = 0.0, sockets: str | None = None) -> None:
    """Once per kernel: import what every chapter imports, remember the clean global state to restore, freeze the
    heap, and start the watchdog that ends the kernel when its ``lease`` lapses.

    ``gc.freeze`` takes the ~140,000 objects of pandas, matplotlib and IPython out of the garbage collector's
    sight. IPython's reset (before each notebook) runs a full collection, which otherwise walks them all again:
    0.13 s per notebook, measured; 0.005 s frozen. Frozen objects are still freed by reference counting.
    """
    import gc
    import threading
    import warnings

    import matplotlib
    import matplotlib.pyplot  # noqa: F401  (the imports nearly every chapter pays)
    import pandas  # noqa: F401
    from IPython import get_ipython
    from myst_nb import glue  # noqa: F401

    get_ipython()._relaxbook_clean = {"rc": dict(matplotlib.rcParams), "filters": list(warnings.filters)}
    gc.freeze()
    if lease:
        threading.Thread(target=_watch, args=(lease, ttl, sockets), daemon=True, name="relaxbook-lease").start()


def lease_lapsed(lease: str, ttl: float) -> bool:
    """True when the kernel of ``lease`` should end: the file is gone, or no build holds it and it was let go more
    than ``ttl`` seconds ago (then the file is removed, under the lock, so no build takes the kernel over)."""
    import fcntl

    try:
        fd = os.open(lease, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a build is using this kernel
        try:
            ttl = float(json.loads(os.read(fd, 1 << 16) or b"{}").get("ttl", ttl))
        except ValueError:
            pass
        if time.time() - os.fstat(fd).st_mtime <= ttl:
            return False
        try:
            os.unlink(lease)
        except FileNotFoundError:
            pass
        return True
    finally:
        os.close(fd)  # and with it the lock


def _watch(lease: str, ttl: float, sockets: str | None, interval: float = 0.5) -> None:
    while not lease_lapsed(lease, ttl):
        time.sleep(interval)
    if sockets:
        shutil.rmtree(sockets, ignore_errors=True)
    os._exit(0)


def reset_kernel(cwd: str) -> None:
    """Before each notebook: the state a new kernel would have, apart from third-party modules already imported."""
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


# --- kernels and their leases (build process) ------------------------------------------------------------------

def compat_key(kernel_name: str) -> str:
    """What a kernel must have been started with to be taken over: Python, installed packages, environment, this
    file. A different key means a different kernel."""
    import sysconfig

    env = {k: v for k, v in os.environ.items() if k not in VOLATILE_ENV}
    site = sysconfig.get_paths()["purelib"]
    parts = [kernel_name, sys.executable, json.dumps(env, sort_keys=True),
             str(os.stat(site).st_mtime_ns if os.path.isdir(site) else 0),
             hashlib.sha256(Path(__file__).read_bytes()).hexdigest()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def _started(pid: int) -> float | None:
    """The start time of process ``pid``, or None if it is gone (or a zombie)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc.create_time()
    except psutil.Error:
        return None


@dataclass
class Kernel:
    """A kernel this build holds: its lease file (locked through ``fd``), process and clients."""
    lease: Path
    fd: int
    info: dict  # the lease's content: pid, started, sockets, connection_file, kernel, key
    km: object = None
    kc: object = None
    reused: bool = False

    def alive(self) -> bool:
        return _started(self.info["pid"]) == self.info["started"]


def _manager(info: dict):
    """An AsyncKernelManager for a kernel that runs already (started by this build or an earlier one)."""
    import signal

    from jupyter_client.manager import AsyncKernelManager

    class LeasedKernelManager(AsyncKernelManager):
        @property
        def has_kernel(self) -> bool:
            return _started(info["pid"]) == info["started"]

        async def is_alive(self) -> bool:  # type: ignore[override]
            return self.has_kernel

        async def interrupt_kernel(self) -> None:  # type: ignore[override]
            if self.has_kernel:
                os.kill(info["pid"], signal.SIGINT)

    km = LeasedKernelManager(connection_file=info["connection_file"], kernel_name=info["kernel"])
    km.load_connection_file()
    return km


def _write_lease(fd: int, info: dict) -> None:
    """The lease's content, replaced in place (the caller holds its lock)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)


def _connect(kernel: Kernel) -> Kernel:
    kernel.km = _manager(kernel.info)
    kernel.kc = kernel.km.client()
    kernel.kc.start_channels()
    return kernel


def _retire(lease: Path, fd: int, info: dict | None) -> None:
    """End a kernel this build holds the lease of: remove the lease (under the lock), stop the process."""
    import signal

    try:
        os.unlink(lease)
    except FileNotFoundError:
        pass
    os.close(fd)
    if info and _started(info.get("pid", -1)) == info.get("started"):
        try:
            os.kill(info["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    for proc in [p for p in _launched if info and p.pid == info.get("pid")]:  # started here: reap it
        try:
            proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - left to the system
            pass
        _launched.remove(proc)
    if info and info.get("sockets"):
        shutil.rmtree(info["sockets"], ignore_errors=True)


async def claim(registry: Path, key: str) -> Kernel | None:
    """Take over an idle kernel of an earlier build that fits ``key``; kernels that do not fit are shut down."""
    import fcntl

    for lease in sorted(registry.glob("*.json")):
        try:
            fd = os.open(lease, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            same = os.fstat(fd).st_ino == os.stat(lease).st_ino  # not removed by its watchdog meanwhile
        except (BlockingIOError, FileNotFoundError):
            same = False
        if not same:
            os.close(fd)
            continue
        try:
            info = json.loads(lease.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = None
        kernel = Kernel(lease, fd, info or {}, reused=True)
        if not info or info.get("key") != key or not kernel.alive():
            _retire(lease, fd, info)
            continue
        try:
            await ready(_connect(kernel).kc, timeout=10)
        except Exception:  # noqa: BLE001 - unresponsive: start another
            kernel.kc.stop_channels()
            _retire(lease, fd, info)
            continue
        return kernel
    return None


_launched: list = []  # Popen objects of kernels started here, kept so none is collected while it runs


async def launch(registry: Path, key: str, kernel_name: str, cwd: str | None, keep: float) -> Kernel:
    """Start a kernel in its own session, with a lease in ``registry``, warm it up and return it (lease held)."""
    import fcntl
    import secrets
    import subprocess

    from jupyter_client.connect import write_connection_file
    from jupyter_client.kernelspec import KernelSpecManager

    # IPC: Unix sockets in a private temporary folder (absolute: the kernel runs in the notebook's folder), rather
    # than TCP on localhost, which any local user could reach and over which ipykernel warns that code and outputs
    # travel unencrypted
    sockets = tempfile.mkdtemp(prefix="relaxbook-kernel-")
    connection = os.path.join(sockets, "kernel.json")
    write_connection_file(connection, ip=os.path.join(sockets, "k"), key=secrets.token_hex(32).encode(),
                          transport=TRANSPORT, kernel_name=kernel_name)
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    argv = [a.replace("{connection_file}", connection) for a in spec.argv]
    if argv and argv[0] in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        argv[0] = sys.executable
    env = {**os.environ, **(spec.env or {})}
    env.pop("JPY_PARENT_PID", None)  # else ipykernel ends the kernel with the process that started it
    with open(os.path.join(sockets, "kernel.log"), "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    _launched.append(proc)
    info = {"key": key, "pid": proc.pid, "started": _started(proc.pid), "sockets": sockets,
            "connection_file": connection, "kernel": kernel_name, "ttl": keep}
    # the lease is written and locked under a temporary name, then renamed: no build ever sees it unlocked and empty
    name = f"{key}-{uuid.uuid4().hex[:12]}"
    fd = os.open(registry / f"{name}.tmp", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _write_lease(fd, info)
    os.replace(registry / f"{name}.tmp", registry / f"{name}.json")
    kernel = _connect(Kernel(registry / f"{name}.json", fd, info))
    try:
        await ready(kernel.kc, timeout=60)
        await _silent(kernel.kc, WARM_UP.format(lease=str(kernel.lease), ttl=keep, sockets=sockets))
    except BaseException:
        release(kernel, keep=0)
        raise
    return kernel


def release(kernel: Kernel, keep: float) -> None:
    """Let go of a kernel: keep it warm for the next build (``keep`` > 0 seconds) or shut it down. Letting go
    twice does nothing the second time."""
    if kernel.fd < 0:
        return
    kernel.kc.stop_channels()
    if keep > 0 and kernel.alive():
        kernel.info["ttl"] = keep  # this build's time to keep it, whatever the kernel was started with
        _write_lease(kernel.fd, kernel.info)
        os.utime(kernel.lease)  # the watchdog counts the TTL from now
        os.close(kernel.fd)
    else:
        _retire(kernel.lease, kernel.fd, kernel.info)
    kernel.fd = -1


def registry_folder(path: str | os.PathLike) -> Path:
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def leased_pids(registry: str | os.PathLike) -> list[int]:
    """Process ids of the kernels in ``registry`` (for measuring their memory; tests that they end)."""
    pids = []
    for lease in Path(registry).glob("*.json"):
        try:
            pids.append(int(json.loads(lease.read_text(encoding="utf-8"))["pid"]))
        except (OSError, ValueError, KeyError):
            pass
    return pids


# --- running notebooks (build process) -------------------------------------------------------------------------

async def ready(kc, timeout: float = 60) -> None:
    """Wait until the kernel answers and its IOPub messages reach this client: a subscriber misses whatever is
    published before it has connected, so a cell's outputs could otherwise be lost. Asks for the kernel's info until
    the IOPub status message of one of those requests arrives. (jupyter_client's ``wait_for_ready`` then also waits
    0.2 s for IOPub to fall silent, on every take-over.)"""
    import queue

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = kc.kernel_info()
        until = min(deadline, time.monotonic() + 1.0)
        try:
            while time.monotonic() < until:
                msg = await kc.get_iopub_msg(timeout=max(0.01, until - time.monotonic()))
                if msg["parent_header"].get("msg_id") == msg_id:
                    return
        except queue.Empty:
            continue
    raise RuntimeError(f"the kernel did not answer within {timeout:g} s")


async def _silent(kc, code: str, timeout: float = 120) -> None:
    """Run ``code`` without touching the execution count; raise if it fails."""
    msg_id = kc.execute(code, silent=True, store_history=False)
    while True:
        reply = await kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"kernel set-up failed: {reply['content'].get('evalue', reply['content'])}")


async def _worker(queue: list[Job], kernel_name: str, key: str, log, registry: Path, keep: float) -> None:
    kernel = await claim(registry, key)
    if kernel is None:
        kernel = await launch(registry, key, kernel_name, queue[0].cwd if queue else None, keep)
    held = [kernel]  # the kernel in use: _serve replaces one that dies
    try:
        await _serve(held, queue, kernel_name, log, registry, keep)
    finally:
        release(held[0], keep)


async def _serve(held: list[Kernel], queue: list[Job], kernel_name: str, log, registry: Path, keep: float) -> None:
    """Run the queued notebooks one after another on ``held[0]``; a kernel that dies is replaced by a new one."""
    from nbclient import NotebookClient

    while queue:
        kernel = held[0]
        job = queue.pop(0)
        log(job, "Executing notebook in a warm kernel" + (" (kept from an earlier build)" if kernel.reused else ""))
        start = time.perf_counter()
        try:
            await _silent(kernel.kc, f"import relaxbook.executor; relaxbook.executor.reset_kernel({job.cwd!r})")
            client = NotebookClient(job.nb, km=kernel.km, timeout=job.timeout, allow_errors=False,
                                    record_timing=False, kernel_name=kernel_name)
            client.kc = kernel.kc
            await client.async_execute()
        except Exception as exc:  # noqa: BLE001 - any failure: leave the notebook to myst-nb
            job.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            if not kernel.alive():
                release(kernel, keep=0)
                held[0] = await launch(registry, kernel.info["key"], kernel_name, job.cwd, keep)
        else:
            job.done = True
        job.seconds = time.perf_counter() - start
        log(job, f"Executed notebook in {job.seconds:.2f} seconds" if job.done
            else f"Failed in a warm kernel ({job.error}); myst-nb will run it in a new kernel")


def schedule_key(job: Job) -> tuple:
    code = sum(len(c.source) for c in job.nb.cells if c.cell_type == "code")
    return (job.cost is None, -(job.cost or 0.0), -(job.weight if job.weight is not None else code))


def run(jobs: list[Job], n_workers: int, log=lambda job, msg: None, registry: str | os.PathLike | None = None,
        keep: float | None = None) -> list[Job]:
    """Execute ``jobs`` on ``n_workers`` warm kernels, longest first (by ``cost``; jobs of unknown cost after, the
    most code first: ``weight``, else the notebook's code); returns the jobs, each with ``done`` (outputs now in
    ``job.nb``), ``seconds`` and, on failure, ``error``. Kernels are taken over from, and left warm in, ``registry`` for ``keep`` seconds (default
    :func:`ttl`); without a registry they are started for this call only."""
    import asyncio

    if not jobs or n_workers < 1:
        return jobs
    by_kernel: dict[str, list[Job]] = {}
    for job in sorted(jobs, key=schedule_key):
        by_kernel.setdefault(job.kernel_name, []).append(job)
    scratch = None
    if registry is None:
        scratch = registry = tempfile.mkdtemp(prefix="relaxbook-leases-")
        keep = 0.0
    folder = registry_folder(registry)
    keep = ttl() if keep is None else keep

    async def main():
        tasks = []
        for name, queue in by_kernel.items():
            key = compat_key(name)
            tasks += [_worker(queue, name, key, log, folder, keep) for _ in range(min(n_workers, len(queue)))]
        await asyncio.gather(*tasks)

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case (a Sphinx build): no event loop in this thread
            asyncio.run(main())
        else:  # called from code that runs an event loop (e.g. a notebook, Playwright): use a thread of our own
            import threading

            failure: list[BaseException] = []
            thread = threading.Thread(target=lambda: _catch(failure, lambda: asyncio.run(main())),
                                      name="relaxbook-kernels")
            thread.start()
            thread.join()
            if failure:
                raise failure[0]
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return jobs


def _catch(failure: list, call) -> None:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
        failure.append(exc)
