# Mirrors knowledge distillation where the teacher is built (and would be loaded) in the
# training script and passed to the student's wrapper: `Distiller(teacher)`. The script only
# calls `teacher.eval()`, which switches off dropout and BatchNorm updates but does not freeze:
# the teacher's parameters still require grad. They are part of the private model, never get
# a gradient (its forward runs under torch.no_grad()), and the first step fails with "Per
# sample gradient is not initialized". Fix: `teacher.requires_grad_(False)` (the clean twin).
import torch
import torch.nn as nn


class Teacher(nn.Module):
    def __init__(self, dim=16, num_classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.net(x)


class Distiller(nn.Module):
    def __init__(self, teacher, dim=16, num_classes=4):
        super().__init__()
        self.teacher = teacher  # expect: DPL003
        self.student = nn.Linear(dim, num_classes)

    def forward(self, x):
        with torch.no_grad():
            soft = self.teacher(x).softmax(-1)
        return self.student(x) + soft


def build_distiller():
    teacher = Teacher()
    teacher.eval()
    return Distiller(teacher)


CASE = {
    "model": "build_distiller",
    "inputs": ["float[B, 16]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
