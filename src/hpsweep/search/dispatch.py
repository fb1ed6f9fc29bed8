"""Keeping n_jobs trials in flight on Hydra's own launchers: no batch barrier.

Hydra's `Launcher.launch(job_overrides, initial_job_idx)` returns when every job of the
batch has ended, and a sweeper that hands it batches waits for the batch's longest
trial while its other workers idle. With pruning and early stopping trial lengths
differ tenfold, so that wait is most of a worker's day. The dispatcher therefore hands
the launcher batches of ONE job, each from a thread of its own (`slots` at once), and the sweep loop
refills a slot the moment any job ends: Optuna's own `_optimize` shape (a
ThreadPoolExecutor, `wait(..., FIRST_COMPLETED)`) around whatever launcher the user
chose — joblib's worker processes, submitit's Slurm jobs — instead of a pool of ours.

    slot 0  |==trial 0==|=t2=|======trial 4======|
    slot 1  |=t1=|====trial 3====|=t5=|=t6=|
                 ^ trial 3 starts here, not when trial 0 ends

Hydra's in-process basic launcher is not one to call from threads (it sets the global
HydraConfig, logging and working directory of the process for its job), so with it
the dispatcher runs one job at a time in the calling thread.

`barrier=True` brings back the batch-synchronous behaviour (a new batch only when the
whole previous one has ended): bench/dispatch.py measures one against the other.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# How long a terminated joblib worker may take to finish its epoch and save its state
# before it is killed (then it loses what it trained since its last periodic save).
WORKER_GRACE_SECONDS = 30.0
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


@dataclass(frozen=True)
class Job:
    """One job handed to the launcher: its number (its folder), overrides and slot."""

    number: int
    overrides: list[str]
    slot: int
    trial: Any  # the optuna.Trial it runs
    repeat: int | None = None  # which seed of its configuration (hydra.sweeper.repeats)


@dataclass(frozen=True)
class LostJob:
    """What a job returned when its launcher call raised: its worker died (kill -9, out
    of memory, a lost node) or the launcher's pool broke. Never the task's own error:
    Hydra's run_job returns that as a failed JobReturn."""

    error: BaseException


def runs_in_process(launcher: Any) -> bool:
    cls = type(launcher)
    return f"{cls.__module__}.{cls.__qualname__}" == BASIC_LAUNCHER


class Dispatcher:
    def __init__(
        self,
        launcher: Any,
        slots: int,
        barrier: bool = False,
        pid_of: Callable[[Job], int | None] = lambda job: None,
    ) -> None:
        self.launcher = launcher
        self.pid_of = pid_of  # the process a started job runs in (its own registration)
        self.in_process = runs_in_process(launcher)
        if self.in_process and slots > 1:
            log.warning(
                "hydra.sweeper.n_jobs=%d, but Hydra's basic launcher runs one trial at a "
                "time in this process; for trials in parallel use a launcher with workers, "
                "e.g. hydra/launcher=joblib hydra.launcher.n_jobs=%d",
                slots,
                slots,
            )
            slots = 1
        self.slots = slots
        self.barrier = barrier
        if not self.in_process:
            prepare_for_threads(launcher)
        self.running: dict[Future, Job] = {}
        self.inline: Job | None = None  # the job the in-process launcher runs right now
        self.finished: list[tuple[Job, Any]] = []  # the in-process launcher's, not yet taken

    def free_slots(self) -> list[int]:
        """Slots a new job may take now (none, with a barrier, until the batch is done)."""
        if self.barrier and (self.running or self.finished):
            return []
        taken = {job.slot for job in self.running.values()}
        return [slot for slot in range(self.slots) if slot not in taken]

    @property
    def busy(self) -> bool:
        return bool(self.running or self.finished)

    def claim(self, job: Job) -> None:
        """The job counts as in flight from here (stop() returns it), even if a signal
        comes before start() hands it to the launcher."""
        self.inline = job

    def start(self, job: Job) -> None:
        """Run the job: in process, here and now; else in a thread of its own."""
        if self.in_process:
            # In process: the job runs now, here; a signal reaches it as it trains.
            self.inline = job
            [result] = self.launcher.launch([job.overrides], initial_job_idx=job.number)
            self.inline = None
            self.finished.append((job, result))
            return
        self.running[in_thread(self.launcher.launch, [job.overrides], job.number)] = job
        self.inline = None

    def wait_any(self) -> list[tuple[Job, Any]]:
        """The jobs that ended (at least one; with a barrier, all in flight), with their
        JobReturn, or a LostJob where the launcher raised (its worker died)."""
        if self.finished:
            done, self.finished = self.finished, []
            return done
        until = ALL_COMPLETED if self.barrier else FIRST_COMPLETED
        ended, _ = wait(self.running, return_when=until)
        results = []
        for future in ended:
            job = self.running.pop(future)
            error = future.exception()
            results.append((job, LostJob(error) if error is not None else future.result()[0]))
        return sorted(results, key=lambda pair: pair[0].number)

    def take_finished(self) -> list[tuple[Job, Any]]:
        """Jobs that ended but were not yet taken by wait_any (a signal came between)."""
        done, self.finished = self.finished, []
        done += [(self.running.pop(f), f.result()[0]) for f in list(self.running) if _ended(f)]
        return done

    def stop(self) -> Sequence[Job]:
        """Stop every job in flight (a signal reached the sweep): their workers are
        ended, not left to finish. Returns the jobs that were cut off."""
        cut = sorted(self.running.values(), key=lambda job: job.number)
        if self.inline is not None:
            cut.append(self.inline)
            self.inline = None
        if self.running:
            if from_plugin(self.launcher, "hydra_joblib_launcher"):
                self.let_jobs_save()
            stop_workers(self.launcher)
        self.running.clear()
        return cut

    def let_jobs_save(self) -> None:
        """SIGTERM to each running job's own worker, as soon as the job has registered
        it: the job finishes its epoch, saves its state and unwinds
        (sweep.interruption.stopping_the_job_not_the_worker), its worker idle and
        alive; wait for that, up to WORKER_GRACE_SECONDS. Only busy workers are told:
        an idle loky worker that died of the signal would make joblib kill the busy
        ones at once."""
        signalled: set[int] = set()
        deadline = time.monotonic() + WORKER_GRACE_SECONDS
        while time.monotonic() < deadline:
            for job in self.running.values():
                pid = self.pid_of(job)
                if pid is not None and pid not in signalled:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                    signalled.add(pid)
            _, not_done = wait(self.running, timeout=0.1)
            if not not_done:
                return


def in_thread(function: Callable[..., Any], *args: Any) -> Future:
    """Run `function(*args)` in a thread of its own; its result in a Future.

    A daemon thread, not a ThreadPoolExecutor's: after a signal the sweep exits at once,
    and the interpreter would otherwise wait at exit for a launcher call that never
    returns (a joblib call whose workers were just ended).
    """
    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function(*args))
        except BaseException as error:  # handed to whoever waits on the future
            future.set_exception(error)

    threading.Thread(target=run, name="hpsweep-dispatch", daemon=True).start()
    return future


def _ended(future: Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def from_plugin(launcher: Any, plugin: str) -> bool:
    """Whether the launcher is one of Hydra's plugin `plugin` (hydra_joblib_launcher…)."""
    return type(launcher).__module__.startswith(f"hydra_plugins.{plugin}")


# hydra-ray-launcher's own default (its _core.launch), see prepare_for_threads.
RAY_OBJECT_STORE_BYTES = 78643200


def prepare_for_threads(launcher: Any) -> None:
    """What a launcher needs before the dispatch threads call its `launch`.

    hydra-ray-launcher's `launch` starts Ray itself when Ray is not running yet: two
    threads doing that at once start it twice (Ray refuses: "called ray.init twice").
    So Ray is started here, once, by the launcher's own `start_ray` and its own config.
    First the launcher's own default for `object_store_memory` is put in that config:
    its `launch` sets it with `setdefault`, which Hydra 1.4's read-only, struct config
    refuses (with one slot too).
    """
    if not from_plugin(launcher, "hydra_ray_launcher"):
        return
    from hydra_plugins.hydra_ray_launcher._launcher_util import start_ray
    from omegaconf import open_dict, read_write

    init = launcher.ray_cfg.init
    with read_write(init), open_dict(init):
        init.setdefault("object_store_memory", RAY_OBJECT_STORE_BYTES)
    start_ray(init)


def stop_workers(launcher: Any) -> None:
    """End the worker processes that run the launcher's jobs, where we can reach them.

    Joblib's launcher runs jobs in loky worker processes, children of this one: they are
    terminated, or a worker would finish its current job after the sweep has stopped
    (Dispatcher.let_jobs_save gave their jobs the time to save first); one that does
    not end within WORKER_GRACE_SECONDS is killed. Ray's jobs
    run in the workers of the Ray this sweep started: shutting it down ends them (a Ray
    cluster the sweep only joined, `hydra.launcher.ray.init.address=...`, keeps its
    tasks: they are that cluster's to cancel). Submitit's jobs are their scheduler's.
    """
    if from_plugin(launcher, "hydra_joblib_launcher"):
        workers = multiprocessing.active_children()
        for worker in workers:
            worker.terminate()
        deadline = time.monotonic() + WORKER_GRACE_SECONDS
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():  # loky's Popen has no kill(): by its pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
    elif from_plugin(launcher, "hydra_ray_launcher"):
        import ray

        ray.shutdown()
