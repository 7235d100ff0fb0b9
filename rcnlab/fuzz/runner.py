"""Running a campaign's seeds on a ``concurrent.futures.Executor``: a local process pool
(the default), or a Dask cluster, started in this process on the loopback address or
joined at a scheduler's address (``Client.get_executor()``).

Seeds go out a few to a task, a bounded number of tasks at a time, and come back in
the order they finish. A worker that dies (killed for memory, a crash) fails its task:
its seeds run again, each alone; a seed whose worker dies twice while it runs alone is
given back as `Died`, and the campaign goes on (a local pool that broke is replaced)."""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from rcnlab.errors import BadInput

#: Seeds a task: a local task's overhead is small, a Dask task's (scheduling, pickling) larger.
LOCAL_CHUNK, CLUSTER_CHUNK = 4, 10
#: Tasks in flight per worker: enough to keep each busy while results travel back.
TASKS_PER_WORKER = 2
#: How often the runner asks a Dask scheduler how many workers it has (seconds).
WORKERS_LOOKED_AT_S = 2.0
#: A seed whose worker dies this many times while the seed runs alone is given up.
DEATHS = 2


@attrs.frozen(kw_only=True)
class Died:
    """A seed given up because its worker process died each time it ran it."""

    deaths: int
    error: str


@attrs.define(eq=False)
class Backend:
    """Where tasks run: a maker of executors (a new one when a local pool breaks), the
    workers' count (looked at again as cluster workers come and go), seeds a task, a name
    for reports, and the exceptions that say a worker died."""

    make: Callable[[], Executor]
    workers: Callable[[], int]
    chunk: int
    name: str
    deaths: tuple[type[BaseException], ...]


@contextmanager
def backend(cluster: str | None, jobs: int) -> Iterator[Backend]:
    """The local process pool of ``jobs`` workers, or the Dask cluster ``cluster`` names:
    ``local`` or ``local:N`` (one started here), ``tcp://HOST:PORT``, or a scheduler file."""
    if cluster is None:
        context = multiprocessing.get_context("fork")
        yield Backend(make=lambda: ProcessPoolExecutor(jobs, mp_context=context), workers=lambda: jobs,
                      chunk=LOCAL_CHUNK, name=f"{jobs} process{'es' if jobs > 1 else ''}",
                      deaths=(BrokenProcessPool,))
        return
    try:
        import dask
        from distributed import Client, KilledWorker, LocalCluster
    except ImportError:
        raise BadInput("fuzz --cluster: Dask is not installed (pip install 'rcnlab[cluster]')") from None

    def threads(client: Any) -> Callable[[], int]:
        """The cluster's worker threads, asked of the scheduler (a round trip) at most every few seconds."""
        seen = [-math.inf, 0]

        def count() -> int:
            if time.monotonic() - seen[0] > WORKERS_LOOKED_AT_S:
                info = client.scheduler_info()
                seen[:] = time.monotonic(), sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            return int(seen[1])

        return count

    if cluster.startswith("local"):
        n = int(cluster.partition(":")[2] or jobs)
        # A task whose worker died fails at once: the runner retries its seeds itself, one by one.
        # The workers' statistical profiler (a look at every stack each 10 ms) serves no one here.
        with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                              "distributed.worker.profile.enabled": False}), \
                LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=":0", silence_logs=logging.CRITICAL) as local, Client(local) as client:
            yield Backend(make=lambda: client.get_executor(pure=False), workers=threads(client),
                          chunk=CLUSTER_CHUNK, name=f"a local Dask cluster of {n} workers", deaths=(KilledWorker,))
        return
    is_file = cluster.endswith(".json") or Path(cluster).is_file()
    if is_file and not Path(cluster).is_file():
        raise BadInput(f"fuzz --cluster: no scheduler file {cluster!r}")
    where = {"scheduler_file": cluster} if is_file else {"address": cluster}
    try:
        client = Client(**where, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BadInput(f"fuzz --cluster {cluster}: cannot reach the Dask scheduler ({exc})") from None
    with client:
        yield Backend(make=lambda: client.get_executor(pure=False), workers=threads(client),
                      chunk=CLUSTER_CHUNK, name=f"the Dask cluster at {client.scheduler.address}",
                      deaths=(KilledWorker,))


def run(backend: Backend, fn: Callable[[Any, tuple[int, ...]], list[Any]], job: Any, seeds: Sequence[int],
        chunk: int | None = None) -> Iterator[tuple[int, Any]]:
    """(seed, ``fn(job, seeds)``'s result for it, or `Died`) for every seed, as they finish;
    ``chunk`` seeds a task (default: the backend's)."""
    chunk = chunk or backend.chunk
    tasks = deque(tuple(seeds[i:i + chunk]) for i in range(0, len(seeds), chunk))
    alone: deque[int] = deque()  # seeds of a task whose worker died: each runs alone
    deaths: dict[int, int] = {}
    in_flight: dict[Future[list[Any]], tuple[tuple[int, ...], bool]] = {}
    executor = backend.make()
    try:
        while tasks or alone or in_flight:
            while (alone and not in_flight) or (tasks and not alone and len(in_flight) < slots(backend)):
                task, by_itself = ((alone.popleft(),), True) if alone else (tasks.popleft(), False)
                try:
                    future = executor.submit(fn, job, task)
                except backend.deaths:  # a local pool broke: replace it
                    executor.shutdown(wait=False)
                    executor = backend.make()
                    future = executor.submit(fn, job, task)
                in_flight[future] = task, by_itself
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task, by_itself = in_flight.pop(future)
                try:
                    results = future.result()
                except backend.deaths as exc:
                    if not by_itself:
                        alone.extend(task)
                        continue
                    seed = task[0]
                    deaths[seed] = deaths.get(seed, 0) + 1
                    if deaths[seed] < DEATHS:
                        alone.appendleft(seed)
                    else:
                        yield seed, Died(deaths=deaths[seed], error=f"{type(exc).__name__}: {exc}".strip())
                    continue
                except Exception as exc:
                    raise BadInput(f"fuzz: seeds {task[0]}..{task[-1]} failed on {backend.name}: "
                                   f"{type(exc).__name__}: {exc}") from None
                yield from zip(task, results)
    finally:
        for future in in_flight:
            future.cancel()
        executor.shutdown(wait=not in_flight)


def slots(backend: Backend) -> int:
    return TASKS_PER_WORKER * max(1, backend.workers())
