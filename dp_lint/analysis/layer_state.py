"""Whether a layer of a checked model is trained: frozen layers get no per-sample gradient.

`frozen_layer(project, use)` follows the layer's path up through the instances that hold it
(`Model.encoder.embedding`: `embedding` in `Encoder`, then `encoder` in `Model`) and answers
True when any level is frozen: `self.embedding.weight.requires_grad = False`,
`self.encoder.requires_grad_(False)`, a freeze loop, a freeze written outside the class
(`ModuleModels.frozen_elsewhere`), or a freeze dp-lint could not attribute (which may be it).
"""

from __future__ import annotations

import libcst as cst

from dp_lint.analysis.layers import Instance, LayerUse
from dp_lint.files.syntax import calls_in


def _first_attribute(path: str, prefix: str) -> str | None:
    if not path.startswith(prefix + "."):
        return None
    rest = path[len(prefix) + 1:]
    return rest.split(".", 1)[0].split("[", 1)[0] or None


def frozen_layer(project, use: LayerUse) -> bool:
    """Is `use` (or a module holding it) frozen, or maybe frozen?"""
    return use.kind.frozen or held_frozen(project, use.instance, use.path)


def held_frozen(project, instance: Instance | None, path: str) -> bool:
    """Is the module at `path` frozen (or maybe frozen) by `instance` or by any instance holding it,
    on the way up to the root?"""
    models = project.modules
    while instance is not None:
        attr = _first_attribute(path, instance.path)
        model = models.model(instance.cls)
        if model.freezes_everything or model.unattributed_freeze:
            return True
        if attr is not None:
            sub = model.submodules.get(attr)
            if model.is_frozen(attr) or models.frozen_elsewhere(instance.cls, attr) or (sub is not None and sub.kind.frozen):
                return True
        binding = instance.bound_by.get(instance.cls)
        path = instance.path
        instance = binding.instance if binding is not None else None
    return False


def kept_in_eval_mode(project, use: LayerUse) -> bool:
    """Does a class holding `use` (or a base class of one) override `train()` with a `.eval()`
    call in it (`def train(self, mode=True): super().train(mode); self.bn.eval()`)? Then the layer
    may never run in training mode; dp-lint does not check which modules the override reaches."""
    instance = use.instance
    while instance is not None:
        for cls in project.index.mro(instance.cls):
            train = cls.methods.get("train")
            if train is not None and any(
                isinstance(call.func, cst.Attribute) and call.func.attr.value == "eval"
                for call in calls_in(train.node)
            ):
                return True
        binding = instance.bound_by.get(instance.cls)
        instance = binding.instance if binding is not None else None
    return False
