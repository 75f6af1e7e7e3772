import torch
import torch.nn as nn
from opacus import PrivacyEngine


class Trainer:
    def __init__(self, model, loader, cfg):
        self.cfg = cfg
        self.model = model
        self.loader = loader
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
        self.engine = PrivacyEngine()
        self.hooks = None

    def make_private(self):
        self.hooks, self.optimizer, self.loader = self.engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader,
            noise_multiplier=self.cfg.noise_multiplier, max_grad_norm=self.cfg.max_grad_norm,
            wrap_model=self.cfg.wrap_model,
        )

    def fit(self):
        criterion = nn.CrossEntropyLoss()
        for _ in range(self.cfg.epochs):
            self.model.train()
            for x, y in self.loader:
                self.optimizer.zero_grad()
                criterion(self.model(x), y).backward()
                self.optimizer.step()

    def close(self):
        self.hooks.cleanup()
        return self.model.state_dict()
