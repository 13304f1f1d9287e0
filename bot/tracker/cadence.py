"""When the tracker looks at a job again: from its status, its pace and its predicted end."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage import VideoRow

Sighting = tuple[float, int]  # (when, progress)


@dataclass(frozen=True, slots=True)
class Cadence:
    """When to look at a job again: soon after it starts, closer and closer near its predicted
    end, sooner when its progress stalls, rarely between."""

    base: float = 5.0
    floor: float = 1.0
    # The longest a job goes unseen: no delay, slack included, is longer.
    ceiling: float = 30.0
    # Look again after this share of the time left to (or past) the predicted end, so looks
    # close in on the end geometrically and thin out again when a prediction was early.
    approach: float = 0.5
    # A look far from the predicted end may wait up to this share of its delay longer, for a
    # page that other jobs need too: one page then serves many jobs, not one each.
    slack: float = 0.5

    def predict(
        self, job: VideoRow, now: float, since: Sighting | None, recent: Sighting | None = None
    ) -> float | None:
        """Unix seconds the job should finish at, from its pace; None while there is none.

        `since` is when the tracker first saw it running, and its progress then; `recent` the
        first sighting of its previous progress value. Real curves are not linear (slow starts,
        stalls, jumps), so the earlier of the two paces' ends is taken: overall and recent.
        """
        if job.status != "in_progress":
            return None
        left: list[float] = []
        for seen in (since, recent):
            if seen is None:
                continue
            gained, took = job.progress - seen[1], now - seen[0]
            if gained > 0 and took > 0:
                left.append((100 - job.progress) * took / gained)
        return now + min(left) if left else None

    def delay(
        self,
        job: VideoRow,
        now: float,
        hint_ms: int | None = None,
        predicted_end: float | None = None,
        *,
        stalled: bool = False,
        pages: int = 1,
    ) -> float:
        """Seconds until the next look; `pages` is how many list pages the tracked jobs span."""
        floor = self.floor_for(pages)
        if hint_ms is not None:
            return self._clamp(hint_ms / 1000, floor)
        if job.status == "in_progress":
            delay = self.base
            if predicted_end is not None and predicted_end >= now:
                delay = (predicted_end - now) * self.approach
            elif predicted_end is not None:
                # Past it: thinning out after an early prediction, but at least every base s.
                delay = min(self.base, (now - predicted_end) * self.approach)
            if stalled:
                # No progress since the last look: the pace no longer says when it ends.
                delay = min(delay, self.base)
            return self._clamp(delay, floor)
        # Queued: quick at first (early failures), then slower the longer it waits.
        age = max(0.0, now - job.created_at)
        return self._clamp(max(self.base, age / 4), floor)

    def floor_for(self, pages: int) -> float:
        """The shortest delay when the jobs span `pages` pages: the quick looks near an end then
        cost one page a `floor` second at most however many jobs there are, and never space
        out past `base`."""
        return min(self.base, self.floor * max(1, pages))

    def wait_allowed(self, delay: float, now: float, predicted_end: float | None) -> float:
        """How much later than `delay` a look may come; none close to the predicted end, and
        never past `ceiling` in all: every job is seen at least that often."""
        if predicted_end is not None and predicted_end - now <= self.ceiling:
            return 0.0
        return max(0.0, min(delay * self.slack, self.ceiling - delay))

    def _clamp(self, seconds: float, floor: float) -> float:
        return min(self.ceiling, max(floor, seconds))
