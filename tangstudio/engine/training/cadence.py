"""When to evaluate (and sample) when `eval_every` is 0: from the run's budget, not a fixed step count.

A fixed `--eval-every 500` suits long runs, but a 3-minute run of ~100 steps then showed no
validation point and no sample until its very end. The automatic cadence aims at TARGET_EVALS
evaluations per run whatever its length (a step or epoch budget: every total/8 steps; a time
budget: every budget/8 of wall time), still at least every LONG_EVERY steps on long runs, and never
lets evaluating take more than MAX_SHARE of the time (an evaluation that cost 3 s waits 27 s
of training before the next). Torch-free; the loop asks `due()` at its synchronised check steps, so
every process of a distributed run agrees. `Budget` holds the rest of what the loop asks of its
budget (the share done, the time left), so both trainers read it alike.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = 0
TARGET_EVALS = 8
LONG_EVERY = 500
MAX_SHARE = 0.1


@dataclass
class Cadence:
    total_steps: int | None  # a step or epoch budget, in steps; None for a time budget
    budget_s: float | None  # a time budget, in seconds
    last_step: int = 0  # the step and elapsed time of the previous evaluation (or the session start)
    last_elapsed_s: float = 0.0
    cost_s: float = 0.0  # what the previous evaluation took

    def every_steps(self) -> int:
        if self.total_steps:
            return max(1, min(LONG_EVERY, self.total_steps // TARGET_EVALS))
        return LONG_EVERY

    def due(self, step: int, elapsed_s: float) -> bool:
        since_s = elapsed_s - self.last_elapsed_s
        if since_s < self.cost_s * (1 - MAX_SHARE) / MAX_SHARE:
            return False  # evaluating would take more than its share of the time
        if step - self.last_step >= self.every_steps():
            return True
        return self.budget_s is not None and since_s >= self.budget_s / TARGET_EVALS

    def evaluated(self, step: int, elapsed_s: float, cost_s: float) -> None:
        self.last_step, self.last_elapsed_s, self.cost_s = step, elapsed_s, cost_s


@dataclass
class Budget:
    """A run's budget as the loop reads it: a step total (steps, or epochs × steps per epoch) or a
    wall-time limit, the share done, the time left and whether it is spent. Both trainers (poems and
    the lab) read it here, so `--steps 300` or `--minutes 5` means the same thing to both."""

    total_steps: int | None
    budget_s: float | None

    @classmethod
    def of(cls, budget: tuple[str, float], steps_per_epoch: int | None = None) -> Budget:
        """From a config's `budget` ('steps' | 'epochs' | 'minutes', amount)."""
        kind, amount = budget
        if kind == "steps":
            return cls(int(amount), None)
        if kind == "epochs":
            if steps_per_epoch is None:
                raise ValueError("an epoch budget needs the steps per epoch")
            return cls(int(amount) * steps_per_epoch, None)
        return cls(None, amount * 60)

    def reached(self, step: int) -> bool:
        return self.total_steps is not None and step >= self.total_steps

    def time_up(self, elapsed_s: float) -> bool:
        return self.budget_s is not None and elapsed_s >= self.budget_s

    def fraction(self, step: int, elapsed_s: float) -> float:
        """The share of the budget done (the learning-rate schedule's clock)."""
        if self.total_steps:
            return step / self.total_steps
        return elapsed_s / self.budget_s if self.budget_s else 0.0

    def eta_s(self, step: int, start_step: int, session_s: float, elapsed_s: float) -> float | None:
        """Seconds left: steps to go at this session's pace, or what the time budget has left."""
        if self.total_steps:
            return (self.total_steps - step) * session_s / max(step - start_step, 1)
        return max(self.budget_s - elapsed_s, 0.0) if self.budget_s else None

    def cadence(self, last_step: int = 0, last_elapsed_s: float = 0.0) -> Cadence:
        """The automatic evaluation cadence (eval_every 0) over this budget."""
        return Cadence(self.total_steps, self.budget_s, last_step=last_step, last_elapsed_s=last_elapsed_s)
