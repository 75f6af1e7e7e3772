# Part of the multi-file case (see train.py): the trainer that makes the model private.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader

from metrics import top1
from model import TabularNet


class DPTrainer:
    def __init__(self, config, dataset):
        self.config = config
        net = TabularNet()
        self.privacy_engine = PrivacyEngine()
        self.model, self.optimizer, self.train_loader = self.privacy_engine.make_private(
            module=net,
            optimizer=torch.optim.SGD(net.parameters(), lr=config.lr),
            data_loader=DataLoader(dataset, batch_size=config.batch_size),
            noise_multiplier=config.noise_multiplier,
            max_grad_norm=config.max_grad_norm,
        )
        self.loss_fn = nn.CrossEntropyLoss()

    def train_epoch(self, epoch):
        self.model.train()
        for step, (features, labels) in enumerate(self.train_loader):
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(features), labels)
            loss.backward()
            if step % self.config.log_every == 0:
                with torch.no_grad():
                    acc = top1(self.model(features), labels)
                print(f"epoch {epoch} step {step}: loss {loss.item():.3f} acc {acc.item():.3f}")
            self.optimizer.step()
