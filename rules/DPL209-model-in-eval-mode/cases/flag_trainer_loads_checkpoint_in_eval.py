"""A Trainer that restores a checkpoint in __init__ and puts the model in eval mode there (as
inference code does); fit() makes it private without calling train() first."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(10, 20)
        self.head = nn.Linear(20, 4)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


class Trainer:
    def __init__(self, dataset, state=None):
        self.dataset = dataset
        self.model = Classifier()
        if state is not None:
            self.model.load_state_dict(state)
        self.model.eval()
        self.privacy_engine = PrivacyEngine()

    def fit(self):
        optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        model, optimizer, loader = self.privacy_engine.make_private(  # expect: DPL209
            module=self.model, optimizer=optimizer, data_loader=DataLoader(self.dataset, batch_size=12),
            noise_multiplier=0.9, max_grad_norm=1.0,
        )
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


def run():
    generator = torch.Generator().manual_seed(6)
    dataset = TensorDataset(torch.randn(36, 10, generator=generator), torch.randint(0, 4, (36,), generator=generator))
    Trainer(dataset, Classifier().state_dict()).fit()


CASE = {
    "script": "run",
    "runtime": "crash",
    "error": "Model needs to be in training mode",
}
