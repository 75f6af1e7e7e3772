import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from net.model import Classifier


class Trainer:
    def __init__(self, model, lr=0.1, aux_weight=0.5):
        self.model = model
        self.aux_weight = aux_weight
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        self.engine = PrivacyEngine()

    def fit(self, loader):
        self.model, self.optimizer, loader = self.engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
        )
        for x, y, aux in loader:
            logits = self.model(x)
            loss = F.cross_entropy(logits, y, reduction="none")
            loss = loss + self.aux_weight * self.model._module.auxiliary_loss(x, aux)
            self.optimizer.zero_grad()
            loss.mean().backward()
            self.optimizer.step()
        return loss.mean().item()


def main():
    data = TensorDataset(torch.randn(32, 16), torch.randint(0, 4, (32,)), torch.randn(32, 2))
    return Trainer(Classifier()).fit(DataLoader(data, batch_size=8))


CASE = {
    "script": "main",
    "runtime": "ok",
}
