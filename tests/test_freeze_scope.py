"""Freezes apply to the object they reach: a freeze in class A never affects class B; a freeze in a
script applies to the class its receiver is known to be built from, and to every class with that
attribute when the receiver is unknown (issue 10, item 3)."""

from __future__ import annotations

from lint_helpers import lint

BYOL = """
import copy
import torch.nn as nn
import torch.nn.functional as F


class BYOL(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.predictor = nn.Linear(dim, dim)
        self.target = copy.deepcopy(self.online)

    def forward(self, x1, x2):
        p = self.predictor(self.online(x1))
        t = self.target(x2).detach()
        return -F.cosine_similarity(p, t, dim=-1).mean()
"""

FLAGGED = [("a.py", 11, "DPL003"), ("a.py", 15, "DPL001")]

DISTILLER = """
import torch.nn as nn


class Distiller(nn.Module):
    def __init__(self, teacher, dim=16):
        super().__init__()
        self.student = nn.Linear(dim, dim)
        self.target = teacher
        self.target.requires_grad_(False)

    def forward(self, x):
        return self.student(x) - self.target(x)
"""


def test_a_freeze_in_another_class_does_not_silence_the_findings(tmp_path):
    assert lint(tmp_path / "alone", {"a.py": BYOL}) == FLAGGED
    assert lint(tmp_path / "both", {"a.py": BYOL, "b.py": DISTILLER}) == FLAGGED


def test_a_script_freeze_on_a_known_receiver_applies_to_that_class_only(tmp_path):
    other = BYOL.replace("class BYOL", "class Other")
    script = """
        from a import BYOL
        from b import Other

        model = BYOL().to("cpu")
        other = Other()
        other.target.requires_grad_(False)
        """
    # Other's target is frozen, BYOL's is not.
    assert lint(tmp_path / "other", {"a.py": BYOL, "b.py": other, "train.py": script}) == FLAGGED
    own = """
        from a import BYOL

        model = BYOL().to("cpu")
        model.target.requires_grad_(False)
        """
    assert lint(tmp_path / "own", {"a.py": BYOL, "train.py": own}) == []


def test_a_freeze_through_a_submodule_chain_reaches_the_inner_class(tmp_path):
    wrapper = """
        import torch.nn as nn
        from a import BYOL


        class Wrapper(nn.Module):
            def __init__(self):
                super().__init__()
                self.ssl = BYOL()

            def forward(self, x1, x2):
                return self.ssl(x1, x2)
        """
    script = """
        from w import Wrapper

        def main():
            model = Wrapper()
            for p in model.ssl.target.parameters():
                p.requires_grad = False
        """
    assert lint(tmp_path, {"a.py": BYOL, "w.py": wrapper, "train.py": script}) == []


def test_an_unknown_receiver_may_be_any_class_with_that_attribute(tmp_path):
    helper = """
        def freeze_target(model):
            model.target.requires_grad_(False)


        class Trainer:
            def __init__(self, model):
                self.model = model
                self.model.target.requires_grad_(False)
        """
    assert lint(tmp_path / "helper", {"a.py": BYOL, "h.py": helper}) == []
    rebound = """
        from a import BYOL

        model = BYOL()
        model, optimizer = build(model)
        model.target.requires_grad_(False)
        """
    assert lint(tmp_path / "rebound", {"a.py": BYOL, "train.py": rebound}) == []


def test_alternative_constructions_are_unknown(tmp_path):
    other = BYOL.replace("class BYOL", "class Other")
    script = """
        from a import BYOL
        from b import Other

        if flag:
            model = BYOL()
        else:
            model = Other()
        model.target.requires_grad_(False)
        """
    assert lint(tmp_path, {"a.py": BYOL, "b.py": other, "train.py": script}) == []


def test_a_freeze_is_not_a_gradient_giving_use(tmp_path):
    # `model.target.requires_grad_(False)` on a *different* class's object must not count as a use
    # of BYOL's `target` (the textual guard against `model.head(x)` in scripts).
    script = """
        from b import Distill

        distill = Distill()
        distill.target.requires_grad_(False)
        distill.target.eval()
        """
    distill = """
        import torch
        import torch.nn as nn


        class Distill(nn.Module):
            def __init__(self):
                super().__init__()
                self.target = nn.Linear(16, 16)
                self.student = nn.Linear(16, 16)

            def forward(self, x):
                with torch.no_grad():
                    t = self.target(x)
                return self.student(x) - t
        """
    assert lint(tmp_path, {"a.py": BYOL, "b.py": distill, "train.py": script}) == FLAGGED
