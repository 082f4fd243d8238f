"""ANIL, Almost No Inner Loop (Raghu et al. 2020): MAML whose inner loop adapts only the head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from .maml import MAML


def last_layer_names(model: nn.Module) -> list[str]:
    """Names of the parameters of the last submodule that holds parameters (the head)."""
    owners = [
        name for name, module in model.named_modules() if any(True for _ in module.parameters(recurse=False))
    ]
    if not owners:
        raise ValueError("the model has no parameters, so it has no head to adapt")
    head = owners[-1]
    prefix = f"{head}." if head else ""
    return [
        name
        for name, _ in model.named_parameters()
        if name.startswith(prefix) and "." not in name[len(prefix) :]
    ]


class ANIL(MAML):
    """ANIL: the body's features are meta-learned, and only the head adapts to each task.

    The outer loop trains every weight as in MAML; the inner loop (and :meth:`adapt`) changes
    only the parameters named in ``head`` — by default those of the last layer. Raghu et al.
    found this matches MAML on few-shot benchmarks: MAML's success is mostly feature reuse.

    Args:
        head: names of the parameters that adapt (default: the last layer's). Other arguments
            are those of :class:`MAML`.
    """

    name = "anil"

    def __init__(self, model: nn.Module, *, head: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        names = dict(self.model.named_parameters())
        self.head = list(head) if head is not None else last_layer_names(self.model)
        unknown = [h for h in self.head if h not in names]
        if unknown or not self.head:
            raise ValueError(
                f"head must name parameters of the model ({sorted(names)}), got {list(self.head)}"
            )

    def adaptation_kwargs(self) -> dict[str, Any]:
        return {**super().adaptation_kwargs(), "adapted": self.head}

    def config(self) -> dict[str, Any]:
        return {**super().config(), "head": list(self.head)}
