# Part of the multi-file case (see nets.py): the project's DP trainer.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine


class DPTrainer:
    def __init__(self, model, lr=0.05, noise_multiplier=1.0):
        self.model = model
        self.lr = lr
        self.noise_multiplier = noise_multiplier
        self.engine = PrivacyEngine()

    def fit(self, loader, epochs=1):
        optimizer = torch.optim.SGD(self.model.parameters(), lr=self.lr)
        self.model, optimizer, loader = self.engine.make_private(
            module=self.model, optimizer=optimizer, data_loader=loader,
            noise_multiplier=self.noise_multiplier, max_grad_norm=1.0,
        )
        for _ in range(epochs):
            for x, y in loader:
                optimizer.zero_grad()
                F.cross_entropy(self.model(x), y).backward()
                optimizer.step()
        return self.engine.get_epsilon(1e-5)
