"""A self-distillation model in the DINO shape: `Distiller(student, teacher)` stores both, the teacher is a
`copy.deepcopy` of the student that nothing freezes, and the optimizer holds the `student` variable only. The
teacher's output is `.detach()`ed after its softmax, so no gradient (and no per-sample gradient) reaches its
layers: the DP optimizer clears everything the hooks store, and training runs."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Projector(nn.Module):
    def __init__(self, in_features=12, width=16, out_features=8):
        super().__init__()
        self.fc1 = nn.Linear(in_features, width)
        self.fc2 = nn.Linear(width, out_features)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Distiller(nn.Module):
    def __init__(self, student, teacher, temperature=0.1):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.temperature = temperature

    def forward(self, view_a, view_b):
        target = F.softmax(self.teacher(view_a) / self.temperature, dim=-1).detach()
        log_probs = F.log_softmax(self.student(view_b) / self.temperature, dim=-1)
        return torch.sum(-target * log_probs, dim=-1)


def main():
    student = Projector()
    teacher = copy.deepcopy(student)
    model = Distiller(student, teacher)
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-4)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randn(64, 12, generator=generator))
    privacy_engine = PrivacyEngine()
    model, optimizer, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=16),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for view_a, view_b in loader:
        optimizer.zero_grad()
        model(view_a, view_b).mean().backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}
