# Part of the multi-file case (see models/tabular.py): the privacy helper, validating too late.
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


def make_private(model, optimizer, loader, sigma=1.0, clip=1.0):
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=sigma, max_grad_norm=clip
    )
    model = ModuleValidator.fix(model)
    return model, optimizer, loader
