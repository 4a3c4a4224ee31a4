"""Data loader workers that leave SIGTERM and SIGINT to the main process.

slurm (and most schedulers, and Ctrl-C in a terminal) signal the whole
process group, data loader workers included. A torch worker installs a C
handler for SIGTERM that kills it, so the main process dies with
``DataLoader worker (pid ...) is killed by signal: Terminated`` before
``PreemptionCheckpointHook`` can save anything; on SIGINT every worker
prints a ``KeyboardInterrupt`` traceback.

:func:`patch_mmengine_build_dataloader` (applied on ``import
uniformer_mm``) wraps the ``worker_init_fn`` of every data loader that
mmengine's ``Runner.build_dataloader`` (and ``FlexibleRunner``'s) builds --
training, validation and test loaders, persistent or not, under any
launcher -- so that each worker, before it runs mmengine's seeding
function, calls :func:`shield_worker_signals`:

* SIGTERM and SIGINT are blocked in the worker (threads it starts later,
  e.g. by the video decoder, inherit the mask) and a small thread waits for
  them with ``sigwaitinfo``, which tells who sent the signal;
* a signal from the worker's own parent -- the main process shutting its
  workers down (torch's ``_shutdown_workers``, ``multiprocessing``'s exit
  handler) -- ends the worker at once, as before (with status 0: the
  parent asked for it);
* any other sender (the scheduler, a terminal, torchrun's agent signalling
  the process group of a rank) is ignored: the main process decides when to
  stop, and its workers stop with it (they also exit by themselves when the
  main process is gone: torch's worker watchdog).

On platforms without ``signal.sigwaitinfo`` (not Linux) nothing changes.
"""
import functools
import os
import signal
import threading

__all__ = [
    'shield_worker_signals', 'ShieldedWorkerInit', 'shield_dataloader',
    'shutdown_workers', 'patch_mmengine_build_dataloader'
]

_SIGNALS = tuple(getattr(signal, name) for name in ('SIGTERM', 'SIGINT')
                 if hasattr(signal, name))


def _supported():
    return hasattr(signal, 'sigwaitinfo') and hasattr(signal,
                                                      'pthread_sigmask')


def _wait_for_signals(parent: int) -> None:
    while True:
        info = signal.sigwaitinfo(_SIGNALS)
        if info.si_pid == parent:
            # the main process shuts its workers down (multiprocessing's
            # exit handler, torch's last resort): end now, with status 0 so
            # that torch's SIGCHLD handler does not report a failed worker
            os._exit(0)
        # from anyone else: ignored, the main process decides


def shield_worker_signals() -> bool:
    """In a data loader worker: ignore SIGTERM/SIGINT unless they come from
    the parent (the main process). Returns False where not supported."""
    if not _supported() or not _SIGNALS:
        return False
    parent = os.getppid()
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    threading.Thread(target=_wait_for_signals, args=(parent, ),
                     name='uniformer_mm-worker-signals', daemon=True).start()
    return True


class ShieldedWorkerInit:
    """A ``worker_init_fn`` that calls :func:`shield_worker_signals` and
    then ``inner`` (mmengine's seeding function, or the config's).
    Picklable (for the ``spawn`` start method) when ``inner`` is."""

    def __init__(self, inner=None):
        self.inner = inner

    def __call__(self, worker_id: int) -> None:
        shield_worker_signals()
        if self.inner is not None:
            self.inner(worker_id)


def shield_dataloader(loader):
    """Give ``loader`` (a torch ``DataLoader`` with workers) a
    :class:`ShieldedWorkerInit`; idempotent. Returns the loader."""
    from torch.utils.data import DataLoader
    if not isinstance(loader, DataLoader) or not loader.num_workers:
        return loader
    if isinstance(loader.worker_init_fn, ShieldedWorkerInit):
        return loader
    loader.worker_init_fn = ShieldedWorkerInit(loader.worker_init_fn)
    return loader


def shutdown_workers(runner) -> None:
    """Stop the workers of the runner's data loaders (persistent ones
    included) now, cleanly, e.g. before ``SystemExit`` on pre-emption;
    otherwise they are terminated by ``multiprocessing``'s exit handler."""
    for name in ('_train_loop', '_val_loop', '_test_loop'):
        loader = getattr(getattr(runner, name, None), 'dataloader', None)
        iterator = getattr(loader, '_iterator', None)
        shutdown = getattr(iterator, '_shutdown_workers', None)
        if shutdown is None:
            continue
        try:
            shutdown()
        except Exception:  # noqa: BLE001 - best effort, we are exiting
            pass


def _patch(cls):
    original = cls.__dict__.get('build_dataloader')
    func = getattr(original, '__func__', original)
    if func is None or getattr(func, '_uniformer_mm_shielded', False):
        return False

    @functools.wraps(func)
    def build_dataloader(*args, **kwargs):
        return shield_dataloader(func(*args, **kwargs))

    build_dataloader._uniformer_mm_shielded = True
    setattr(cls, 'build_dataloader', staticmethod(build_dataloader))
    return True


def patch_mmengine_build_dataloader() -> bool:
    """Shield the workers of every loader mmengine's runners build
    (idempotent; a no-op without ``sigwaitinfo``). Returns True if it
    patched now."""
    if not _supported():
        return False
    from mmengine.runner import Runner
    patched = _patch(Runner)
    try:
        from mmengine.runner import FlexibleRunner
    except ImportError:  # pragma: no cover - older mmengine
        FlexibleRunner = None
    if FlexibleRunner is not None:
        patched = _patch(FlexibleRunner) or patched
    return patched
