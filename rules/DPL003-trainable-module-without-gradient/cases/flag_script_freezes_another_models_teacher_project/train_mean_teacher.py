# Part of the multi-file case (see lab/mean_teacher.py): the Mean Teacher script.
import torch
from opacus import PrivacyEngine

from lab.mean_teacher import MeanTeacher


def train(loader):
    model = MeanTeacher()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x_weak, x_strong in loader:
        optimizer.zero_grad()
        model(x_weak, x_strong).mean().backward()
        optimizer.step()
