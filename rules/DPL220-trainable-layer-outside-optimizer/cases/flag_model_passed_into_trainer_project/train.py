"""A `Trainer` given the model it trains (`Trainer(model, cfg)` stores it as `self.model`) that fine-tunes only
the classifier head: its optimizer holds `self.model.classifier`, but the encoder was never frozen. `make_private`
hooks the encoder's layers too; their per-sample gradients are never cleared, and the second batch raises under
Poisson sampling."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from textclf.config import ExperimentConfig
from textclf.models import build_classifier


def make_loader(cfg):
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, cfg.vocab_size, (64, 7), generator=generator)
    labels = torch.randint(0, cfg.num_labels, (64,), generator=generator)
    return DataLoader(TensorDataset(tokens, labels), batch_size=cfg.batch_size)


class Trainer:
    def __init__(self, model, cfg):
        self.cfg = cfg
        self.model = model
        self.optimizer = torch.optim.Adam(self.model.classifier.parameters(), lr=cfg.lr)  # expect: DPL220
        self.criterion = nn.CrossEntropyLoss()
        self.privacy_engine = PrivacyEngine()

    def fit(self, loader):
        self.model, self.optimizer, loader = self.privacy_engine.make_private(
            module=self.model,
            optimizer=self.optimizer,
            data_loader=loader,
            noise_multiplier=self.cfg.noise_multiplier,
            max_grad_norm=self.cfg.max_grad_norm,
            grad_sample_mode=self.cfg.grad_sample_mode,
        )
        for _ in range(self.cfg.epochs):
            for tokens, labels in loader:
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(tokens), labels)
                loss.backward()
                self.optimizer.step()


def main():
    cfg = ExperimentConfig()
    model = build_classifier(cfg)
    trainer = Trainer(model, cfg)
    trainer.fit(make_loader(cfg))


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Poisson sampling is not compatible with grad accumulation",
}
