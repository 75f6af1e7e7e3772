# Part of the multi-file case (see distill/models.py): the training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from distill.models import Distiller, Teacher


def main(loader, checkpoint):
    teacher = Teacher()
    teacher.load_state_dict(torch.load(checkpoint))
    teacher.eval()
    model = Distiller(teacher)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model
