# Mirrors knowledge distillation scripts: the teacher is built from an architecture registry
# (`ARCHS[arch](**kwargs)` in `build_model`, the name an argparse option), loaded and `.eval()`ed in
# `load_teacher`, and passed into `DistillWrapper(student, teacher, ...)`. It is never frozen: its
# parameters require grad, it runs under torch.no_grad(), and optimizer.step() raises "Per sample
# gradient is not initialized" (measured, opacus 1.6.0). Every class of the registry owns parameters,
# so whichever `--teacher-arch` is given the teacher is trainable.
import torch
import torch.nn as nn
import torch.nn.functional as F


class DistillWrapper(nn.Module):
    """Student trained against a fixed teacher's soft targets (Hinton et al.)."""

    def __init__(self, student: nn.Module, teacher: nn.Module, temperature: float = 4.0, alpha: float = 0.9):
        super().__init__()
        self.student = student
        self.teacher = teacher  # expect: DPL003
        self.teacher.requires_grad_(False)
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
