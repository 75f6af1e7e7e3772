# Mirrors a Mean Teacher / FixMatch model holding a timm-style `ModelEmaV2` of its student: the
# student comes from a registry indexed by a constructor argument (`NETWORKS[backbone](...)`), the
# EMA wrapper stores `deepcopy(model)` and only calls `.eval()` on it, which does not freeze. The
# teacher runs under torch.no_grad(): its parameters get no per-sample gradient and optimizer.step()
# raises "Per sample gradient is not initialized" (measured, opacus 1.6.0). The copy is another
# object: the student is not registered twice (no DPL112).
import torch
import torch.nn as nn

from .ema import ModelEmaV2


class WideBasic(nn.Module):
    def __init__(self, in_dim=16, hidden=32, num_classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.GELU())
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.classifier(self.body(x))


NETWORKS = {"wide_basic": WideBasic}


class MeanTeacher(nn.Module):
    """Student trained on strong views, consistency target from an EMA teacher on weak views."""

    def __init__(self, backbone="wide_basic", num_classes=4, ema_decay=0.999):
        super().__init__()
        self.student = NETWORKS[backbone](num_classes=num_classes)
        self.teacher = ModelEmaV2(self.student, decay=ema_decay)  # expect: DPL003
        self.teacher.requires_grad_(False)

    def forward(self, x_weak, x_strong):
        logits = self.student(x_strong)
        with torch.no_grad():
            targets = self.teacher(x_weak).softmax(-1)
        return logits, targets

    @torch.no_grad()
    def update_teacher(self):
        self.teacher.update(self.student)


CASE = {
    "model": "MeanTeacher",
    "inputs": ["float[B, 16]", "float[B, 16]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
