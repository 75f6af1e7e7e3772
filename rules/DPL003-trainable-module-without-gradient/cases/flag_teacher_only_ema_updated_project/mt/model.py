# Mirrors a mean-teacher model: the teacher is an EMA of the student, updated by a project helper
# after each step (`ema_update(self.teacher, self.student, ...)` in `update_teacher`), and its
# predictions are detached targets. The EMA call only reads parameters: it is no gradient-giving
# use. The teacher is never frozen, so Opacus counts its forward but never gets its backward and
# optimizer.step() raises "Per sample gradient is not initialized". Fix: freeze the teacher.
import copy

import torch.nn as nn

from mt.ema import ema_update


class MeanTeacher(nn.Module):
    def __init__(self, features=16, classes=4, decay=0.99):
        super().__init__()
        self.decay = decay
        self.student = nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, classes))
        self.teacher = copy.deepcopy(self.student)  # expect: DPL003

    def update_teacher(self):
        ema_update(self.teacher, self.student, self.decay)

    def forward(self, x):
        target = self.teacher(x).detach()  # expect: DPL001
        return (self.student(x) - target).pow(2).mean(dim=1)


CASE = {
    "model": "MeanTeacher",
    "inputs": ["float[B, 16]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
