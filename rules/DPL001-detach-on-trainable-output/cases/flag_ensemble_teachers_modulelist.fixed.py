# Mirrors ensemble knowledge distillation (e.g. "Born-Again"/multi-teacher KD): several teachers
# in an nn.ModuleList, their logits averaged into a soft target. Each teacher's output is detached
# inside a comprehension and the teachers were never frozen, so they stay in the optimizer with
# no per-sample gradient: DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: `self.teachers.requires_grad_(False)` and build the ensemble under `torch.no_grad()`.
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_classifier(in_dim, hidden, num_classes):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, num_classes))


class EnsembleDistiller(nn.Module):
    def __init__(self, in_dim=20, num_classes=6, num_teachers=3, temperature=2.0):
        super().__init__()
        self.student = make_classifier(in_dim, 8, num_classes)
        teachers = [make_classifier(in_dim, 16, num_classes) for _ in range(num_teachers)]
        self.teachers = nn.ModuleList(teachers)  # expect: DPL003
        self.teachers.requires_grad_(False)
        self.temperature = temperature

    def forward(self, features):
        logits = self.student(features)
        ensemble = torch.stack([teacher(features).detach() for teacher in self.teachers]).mean(0)  # expect: DPL001
        soft = F.softmax(ensemble / self.temperature, dim=-1)
        log_p = F.log_softmax(logits / self.temperature, dim=-1)
        return -(soft * log_p).sum(-1) * self.temperature**2


CASE = {
    "model": "EnsembleDistiller",
    "inputs": ["float[B, 20]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
