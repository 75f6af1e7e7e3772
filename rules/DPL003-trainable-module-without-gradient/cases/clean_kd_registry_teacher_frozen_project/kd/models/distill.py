# Clean twin of flag_kd_registry_teacher_not_frozen_project: `load_teacher` freezes every teacher
# parameter (`p.requires_grad = False`) before the teacher is passed into `DistillWrapper`; only the
# student trains, with exact per-sample gradients (measured, opacus 1.6.0).
import torch
import torch.nn as nn
import torch.nn.functional as F


class DistillWrapper(nn.Module):
    """Student trained against a fixed teacher's soft targets (Hinton et al.)."""

    def __init__(self, student: nn.Module, teacher: nn.Module, temperature: float = 4.0, alpha: float = 0.9):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha

    def forward(self, x):
        logits = self.student(x)
        with torch.no_grad():
            teacher_logits = self.teacher(x)
        soft = F.kl_div(
            F.log_softmax(logits / self.temperature, dim=-1),
            F.softmax(teacher_logits / self.temperature, dim=-1),
            reduction="none",
        ).sum(-1)
        return logits, soft * self.temperature ** 2
