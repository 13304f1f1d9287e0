"""The peak RSS of this process while a block runs, sampled from a thread every 10 ms.

With `children=True`, also the peak of this process and its live child processes together (the
media pool's workers), since a child's memory is the bot's machine's memory too.
"""

from __future__ import annotations

import threading

import psutil


class PeakRss:
    """A busy event loop or a thread deep in FFmpeg cannot hide a peak from this sampler."""

    def __init__(self, *, children: bool = False) -> None:
        self._process = psutil.Process()
        self._children = children
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        # This process and its children at one sample, at the sample where that sum was highest.
        self.peak_with_children = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            own = self._process.memory_info().rss
            self.peak = max(self.peak, own)
            if self._children:
                total = own
                for child in self._process.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                    except psutil.Error:  # it ended between the listing and the reading
                        continue
                self.peak_with_children = max(self.peak_with_children, total)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
