"""How batches reach the device: which rows a step trains on, the memory budget, and the two data paths.

A dataset whose array fits the budget (``--set data_memory``, default 'auto': the training device's free memory
less headroom) is copied whole onto the device and gathered there (``Batches``). One that does not fit (a set
bigger than memory) is read batch by batch from its memory-mapped cache (``StreamedBatches``): a background thread
gathers the rows of the next few steps (in sorted order, for page locality) into pinned host memory while the
current step trains. Both paths take a step's rows from one ``BatchOrder``, so the choice never changes a run.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_train.config import memory_size
from gan_train.distributed import Ranks

#: 'auto' leaves this share of the device's free memory, and this much more, for the models and activations.
HEADROOM_SHARE, HEADROOM_BYTES = 0.25, 1 << 30
IN_MEMORY, STREAMED = "in-memory", "streamed"


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of epoch ``epoch``'s rows (CPU, int64): seeded by (seed, epoch), so resume needs only the step."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


class BatchOrder:
    """Which rows of an ``n``-row dataset step ``s`` (1-based) trains on: slice ``i`` of epoch ``e``'s permutation.

    Under torchrun every rank draws the same global batch and keeps its own rows of it (``Ranks.shard``).
    """

    def __init__(self, n: int, batch: int, seed: int, ranks: Ranks = Ranks()):  # noqa: B008
        self.n, self.batch, self.seed, self.ranks = n, batch, seed, ranks
        self.per_epoch = max(1, n // batch)
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.int64)

    def where(self, step: int) -> tuple[int, slice]:
        """(epoch, the slice of its permutation) of step ``step``."""
        epoch, i = divmod(step - 1, self.per_epoch)
        return epoch, slice(i * self.batch, (i + 1) * self.batch)

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            self._epoch, self._perm = epoch, epoch_permutation(self.n, self.seed, epoch)
        return self._perm

    def rows(self, step: int) -> torch.Tensor:
        """This rank's rows of step ``step``'s global batch (CPU, int64), in the permutation's order."""
        epoch, part = self.where(step)
        return self.ranks.shard(self.permutation(epoch)[part])


class Batches:
    """The in-memory path: the whole dataset is one tensor on the device; each epoch's permutation moves there
    once and a step's gather and scaling run there."""

    def __init__(self, data: torch.Tensor, batch: int, seed: int, image: bool, ranks: Ranks = Ranks()):  # noqa: B008
        self.data, self.image, self.ranks = data, image, ranks
        self.order = BatchOrder(len(data), batch, seed, ranks)
        self.per_epoch = self.order.per_epoch
        self._epoch, self._perm = -1, None

    def __call__(self, step: int) -> torch.Tensor:
        epoch, part = self.order.where(step)
        if epoch != self._epoch:
            self._perm = self.order.permutation(epoch).to(self.data.device)
            self._epoch = epoch
        return to_model_input(self.data[self.ranks.shard(self._perm[part])], self.image)

    def close(self) -> None:
        """Nothing to stop (``StreamedBatches`` has a thread)."""


def to_model_input(x: torch.Tensor, image: bool) -> torch.Tensor:
    """uint8 (N,H,W,C) -> float (N,C,H,W) in [-1,1], stored channels-last; toys pass through."""
    if not image:
        return x
    return (x.permute(0, 3, 1, 2).float() / 127.5 - 1.0).contiguous(memory_format=torch.channels_last)


def dataset_on_device(arr: np.ndarray, device: torch.device, chunk: int = 16384) -> torch.Tensor:
    """The whole dataset as one tensor on the training device (uint8 images stay uint8: 4x less memory).

    A read-only memory-mapped cache is copied into RAM on CPU; on CUDA it streams to the GPU in chunks, so
    the host never holds a second full copy (CelebA 64x64 is ~2.5 GB).
    """
    if device.type == "cpu":
        return torch.from_numpy(np.ascontiguousarray(arr) if arr.flags.writeable else np.array(arr))
    out = torch.empty(arr.shape, dtype=torch.from_numpy(np.asarray(arr[:1])).dtype, device=device)
    for i in range(0, len(arr), chunk):
        out[i : i + chunk] = torch.from_numpy(np.array(arr[i : i + chunk])).to(device)
    return out


def make_batches(
    array: np.ndarray, batch: int, seed: int, image: bool, ranks: Ranks, device: torch.device, setting: str
) -> tuple[Batches | StreamedBatches, DataPath]:
    """The batches of a run on ``device`` by the path the budget ``setting`` allows, and that path."""
    path = DataPath.choose(array, device, setting, ranks)
    if path.path == IN_MEMORY:
        return Batches(dataset_on_device(array, device), batch, seed, image, ranks), path
    return StreamedBatches(array, batch, seed, image, ranks, device), path


def free_memory(device: torch.device, meminfo: Path = Path("/proc/meminfo")) -> int:
    """Free bytes of the training device: CUDA's free memory, or the host's MemAvailable (0 if unknown)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def memory_budget(setting: str, device: torch.device) -> int:
    """Bytes the dataset may take on ``device``: the user's size, or for 'auto' the free memory less headroom."""
    size = memory_size(setting)
    if size is not None:
        return size
    free = free_memory(device)
    return max(0, int(free * (1 - HEADROOM_SHARE)) - HEADROOM_BYTES)


@dataclass(frozen=True)
class DataPath:
    """How batches reach the device: ``path`` in-memory or streamed; the dataset's ``bytes`` (per process), the
    ``budget`` it was held against and the ``processes`` sharing the host's RAM (CPU ranks each hold a copy)."""

    path: str
    bytes: int
    budget: int
    processes: int = 1

    @classmethod
    def choose(cls, array: np.ndarray, device: torch.device, setting: str, ranks: Ranks = Ranks()) -> DataPath:  # noqa: B008
        processes = ranks.world if device.type == "cpu" else 1  # CUDA ranks hold their copy on their own GPU
        budget = memory_budget(setting, device)
        fits = array.nbytes * processes <= budget
        return cls(IN_MEMORY if fits else STREAMED, int(array.nbytes), budget, processes)

    def info(self) -> dict[str, Any]:
        """run.json's ``data``."""
        return {"path": self.path, "bytes": self.bytes, "budget": self.budget}

    def line(self) -> str:
        """One line for the console."""
        size, budget = _human(self.bytes * self.processes), _human(self.budget)
        if self.path == IN_MEMORY:
            return f"data: in memory ({size} of a {budget} budget)"
        return f"data: streamed from the memory-mapped cache ({size} > {budget} budget, --set data_memory)"


def _human(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


class StreamedBatches:
    """``Batches`` read from a (memory-mapped) array instead of a copy on the device.

    Call with steps 1, 2, 3 ... (or from a resumed step on): a daemon thread prepares the steps after the one asked
    for, ``prefetch`` ahead; a call for any other step than the next restarts it there. On CUDA each batch is
    gathered into one of a ring of pinned buffers and copied with ``non_blocking``; a buffer is refilled only
    after its copy's event has passed. ``close()`` ends the thread (the loop calls it however the run ends).
    """

    def __init__(
        self,
        array: np.ndarray,
        batch: int,
        seed: int,
        image: bool,
        ranks: Ranks = Ranks(),  # noqa: B008
        device: torch.device = torch.device("cpu"),  # noqa: B008
        prefetch: int = 4,
    ):
        self.array, self.image, self.device, self.prefetch = array, image, device, prefetch
        self.order = BatchOrder(len(array), batch, seed, ranks)
        self.per_epoch = self.order.per_epoch
        self.pin = device.type == "cuda"
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._next = -1

    def gather(self, step: int, out: np.ndarray | None = None) -> np.ndarray:
        """This rank's rows of step ``step``, in the permutation's order, read from the array in sorted order."""
        idx = self.order.rows(step).numpy()
        by_row = np.argsort(idx, kind="stable")
        if out is None:
            out = np.empty((len(idx), *self.array.shape[1:]), self.array.dtype)
        out[by_row] = self.array[idx[by_row]]
        return out

    def __call__(self, step: int) -> torch.Tensor:
        if step != self._next or self._thread is None:
            self._start(step)
        got, payload, slot = self._take()
        assert got == step, f"streamed step {got}, expected {step}"
        self._next = step + 1
        if slot is None:  # CPU: the producer made the model input already
            return payload
        x = payload.to(self.device, non_blocking=True)
        slot["event"] = torch.cuda.Event()
        slot["event"].record()
        self._free.put(slot)
        return to_model_input(x, self.image)

    def close(self) -> None:
        """Stop the producer and wait for it (it checks the stop flag at least every 0.1 s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    # -- the producer ---------------------------------------------------------------------------------
    def _start(self, step: int) -> None:
        self.close()
        self._stop = threading.Event()
        self._ready: queue.Queue = queue.Queue(maxsize=self.prefetch)
        self._free: queue.Queue = queue.Queue()
        if self.pin:
            shape = (self.order.batch // self.order.ranks.world, *self.array.shape[1:])
            dtype = torch.from_numpy(np.asarray(self.array[:1])).dtype
            for _ in range(self.prefetch + 2):  # prefetch ready, one being copied, one being filled
                self._free.put({"buf": torch.empty(shape, dtype=dtype).pin_memory(), "event": None})
        args = (step, self._stop, self._ready, self._free)
        self._thread = threading.Thread(target=self._produce, args=args, daemon=True, name="batches")
        self._thread.start()

    def _produce(self, step: int, stop: threading.Event, ready: queue.Queue, free: queue.Queue) -> None:
        """Prepare steps ``step``, ``step + 1`` ... into ``ready`` until ``stop``; an error goes there too."""
        try:
            while not stop.is_set():
                if self.pin:
                    slot = self._get(free, stop)
                    if slot is None:
                        return
                    if slot["event"] is not None:
                        slot["event"].synchronize()  # its last batch has reached the device
                    self.gather(step, slot["buf"].numpy())
                    item = (step, slot["buf"], slot)
                else:
                    item = (step, to_model_input(torch.from_numpy(self.gather(step)), self.image), None)
                if not self._put(ready, item, stop):
                    return
                step += 1
        except BaseException as e:  # handed to the loop, which raises it
            self._put(ready, (-1, e, None), stop)

    def _take(self) -> tuple[int, Any, Any]:
        while True:
            try:
                item = self._ready.get(timeout=0.5)
            except queue.Empty:
                if self._thread is None or not self._thread.is_alive():
                    raise RuntimeError("the batch-streaming thread stopped without a batch") from None
                continue
            if item[0] == -1:
                raise item[1]
            return item

    @staticmethod
    def _get(q: queue.Queue, stop: threading.Event) -> Any:
        while not stop.is_set():
            with contextlib.suppress(queue.Empty):
                return q.get(timeout=0.1)
        return None

    @staticmethod
    def _put(q: queue.Queue, item: tuple, stop: threading.Event) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
