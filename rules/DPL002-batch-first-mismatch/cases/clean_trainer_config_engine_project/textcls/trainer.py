# Part of the multi-file case (see textcls/model.py): the training loop, with the engine call in a method.
import torch
import torch.nn as nn
from opacus import PrivacyEngine


class Trainer:
    def __init__(self, model, cfg, train_loader):
        self.model = model
        self.cfg = cfg
        self.train_loader = train_loader
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
        self.criterion = nn.CrossEntropyLoss()
        self.engine = PrivacyEngine()

    def setup_privacy(self):
        self.model, self.optimizer, self.train_loader = self.engine.make_private(
            module=self.model,
            optimizer=self.optimizer,
            data_loader=self.train_loader,
            noise_multiplier=self.cfg.noise_multiplier,
            max_grad_norm=self.cfg.max_grad_norm,
            batch_first=self.cfg.batch_first,
        )

    def fit(self):
        self.setup_privacy()
        for _ in range(self.cfg.epochs):
            for tokens, labels in self.train_loader:
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(tokens), labels)
                loss.backward()
                self.optimizer.step()
        return self.model
