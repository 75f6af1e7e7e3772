# Mirrors a project whose trainer class freezes the EMA teacher of whatever model it is given:
# `self.model.teacher.requires_grad_(False)`. dp-lint cannot tell which class `self.model` is, so
# every class with a `teacher` may be the one frozen and none is reported; here it is the Mean
# Teacher's, which then needs no per-sample gradient: Opacus computes exact ones for the student.
import torch
from opacus import PrivacyEngine

from lab.mean_teacher import MeanTeacher


class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.model.teacher.requires_grad_(False)
        self.optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)

    def fit(self, loader):
        engine = PrivacyEngine()
        self.model, self.optimizer, loader = engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=loader,
            noise_multiplier=1.0, max_grad_norm=1.0,
        )
        for x_weak, x_strong in loader:
            self.optimizer.zero_grad()
            self.model(x_weak, x_strong).mean().backward()
            self.optimizer.step()


def build_model():
    return Trainer(MeanTeacher()).model


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 20]", "float[B, 20]"],
    "runtime": "ok",
}
