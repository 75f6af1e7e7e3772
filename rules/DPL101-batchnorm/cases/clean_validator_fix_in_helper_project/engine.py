# Part of the multi-file case (see models/tabular.py): the privacy helper, validating first.
import torch
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


def make_private(model, loader, lr=0.1, sigma=1.0, clip=1.0):
    model = ModuleValidator.fix(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    engine = PrivacyEngine()
    return engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=sigma, max_grad_norm=clip
    )
