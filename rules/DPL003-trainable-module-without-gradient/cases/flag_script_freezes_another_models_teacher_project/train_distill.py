# Part of the multi-file case (see lab/mean_teacher.py): the distillation script.
import torch
from opacus import PrivacyEngine

from lab.distill import Distill


def train(loader):
    distill = Distill()
    distill.teacher.requires_grad_(False)
    optimizer = torch.optim.SGD(distill.student.parameters(), lr=0.1)
    distill, optimizer, loader = PrivacyEngine().make_private(
        module=distill, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, _ in loader:
        optimizer.zero_grad()
        distill(x).mean().backward()
        optimizer.step()
