"""The campaign's built-in tests, each treated arm against its control: ``send_time: best`` against the fixed time,
``copy_test`` LLM copy against the template.

Arms are compared as assigned (a row of the LLM arm whose copy fell back to the template still counts as LLM:
the test measures the feature as it runs, failures included; the fallbacks are counted beside). Each metric is
per message sent, with Wilson intervals, the difference's Newcombe interval and a z-test
(:func:`campaigns.results.report.compare`). The decision rests on the engagement rate (clicked or replied), which the
send time and the words act on first; conversions are shown too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from storage.reports import FunnelCell

METRICS = ("engaged", "clicked", "replied", "converted")  # the first decides
UNSENT = ("planned", "queued", "sending")  # still to go out
# (feature, the cell's arm field, control arm, treated arm, keep it, switch it off)
TESTS = (
    ("send time", "timing", "fixed", "best", "keep send_time: best", "switch send_time: best off"),
    ("copy", "copy_arm", "template", "llm", "keep the LLM copy", "switch the LLM copy off (the template does better)"),
)


@dataclass(frozen=True)
class Experiment:
    """One built-in test: each metric's rates and comparison, the fallbacks in the treated arm, and the decision."""

    name: str
    control: str
    treated: str
    sent: dict[str, int]
    rates: dict[str, dict[str, Any]]  # metric -> arm -> Rate
    comparisons: dict[str, Any]  # metric -> Comparison (treated against control)
    decision: str
    fallbacks: int = 0  # copy test: sent rows of the LLM arm whose copy fell back to the template
    pending: int = 0  # rows of either arm not sent yet: no decision until they are

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return {
            "name": self.name, "control": self.control, "treated": self.treated, "sent": self.sent,
            "rates": {m: {arm: asdict(r) for arm, r in arms.items()} for m, arms in self.rates.items()},
            "comparisons": {m: asdict(c) for m, c in self.comparisons.items()},
            "decision": self.decision, "fallbacks": self.fallbacks, "pending": self.pending,
        }  # fmt: skip


def decide(verdict: str, treated: str, keep: str, off: str) -> str:
    """The plain decision a marketer acts on, from the engagement comparison's verdict."""
    if verdict == f"{treated} is better":
        return f"{keep}: it lifts engagement significantly"
    if verdict == f"{treated} is worse":
        return f"{off}: it lowers engagement significantly"
    if verdict == "no significant difference":
        return "no significant lift: keep testing with more customers, or switch it off"
    return "too small to call yet: keep testing"


def experiments(cells: Iterable[FunnelCell]) -> list[Experiment]:
    """The tests a campaign's first-step cells hold (none when it ran neither)."""
    from campaigns.results.report import compare, rate  # report imports this module: the statistics stay in one place

    cells = list(cells)
    found = []
    for name, arm_field, control, treated, keep, off in TESTS:
        arms = [c for c in cells if getattr(c, arm_field) in (control, treated)]
        mine = [c for c in arms if c.status == "sent"]
        if not mine:
            continue
        # best-time rows go out over days while the fixed arm is out at once: comparing before both are out
        # would give the control more time to be clicked
        pending = sum(c.deliveries for c in arms if c.status in UNSENT)
        sent = {arm: sum(c.deliveries for c in mine if getattr(c, arm_field) == arm) for arm in (control, treated)}
        rates: dict[str, dict[str, Any]] = {}
        comparisons: dict[str, Any] = {}
        for metric in METRICS:
            hits = {arm: sum(getattr(c, metric) for c in mine if getattr(c, arm_field) == arm) for arm in sent}
            rates[metric] = {arm: rate(hits[arm], sent[arm]) for arm in sent}
            comparisons[metric] = compare(control, rates[metric][control], treated, rates[metric][treated])
        fallbacks = sum(c.deliveries for c in mine if c.copy_arm == "llm" and c.copy_source == "fallback")
        decision = decide(comparisons[METRICS[0]].verdict, treated, keep, off)
        if pending:
            decision = f"wait: {pending} messages of this test are not sent yet; decide once both arms are out"
        found.append(
            Experiment(
                name, control, treated, sent, rates, comparisons, decision, fallbacks if name == "copy" else 0, pending
            )
        )
    return found
