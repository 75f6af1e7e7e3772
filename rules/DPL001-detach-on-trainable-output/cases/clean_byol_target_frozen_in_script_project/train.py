# Mirrors a BYOL project that freezes the target network in the training script, not in the
# model: `build_model()` builds BYOL and calls `model.target.requires_grad_(False)` before the
# optimizer sees the parameters. The receiver is known to be a BYOL, so the freeze applies to
# BYOL's target (and to no other class's `target`): its `.detach()`ed output needs no gradient,
# and Opacus computes exact per-sample gradients for the online network and the predictor.
import torch
from opacus import PrivacyEngine

from byol_lab.byol import BYOL


def build_model():
    model = BYOL()
    model.target.requires_grad_(False)
    return model


def pretrain(loader, epochs=1):
    model = build_model()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for x1, x2 in loader:
            optimizer.zero_grad()
            model(x1, x2).mean().backward()
            optimizer.step()


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 16]", "float[B, 16]"],
    "runtime": "ok",
}
