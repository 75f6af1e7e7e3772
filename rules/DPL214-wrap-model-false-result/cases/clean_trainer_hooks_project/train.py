"""A small project: the config turns `wrap_model` off, the trainer keeps the hooks object as
`self.hooks` (only for `cleanup()`) and trains `self.model`, the module the hooks are on."""

import torch
import torch.nn as nn
from config import TrainConfig
from torch.utils.data import DataLoader, TensorDataset
from trainer import Trainer


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def main():
    generator = torch.Generator().manual_seed(5)
    data = TensorDataset(torch.randn(48, 8, generator=generator), torch.randint(0, 3, (48,), generator=generator))
    trainer = Trainer(Classifier(), DataLoader(data, batch_size=12), TrainConfig())
    trainer.make_private()
    trainer.fit()
    trainer.close()


CASE = {
    "script": "main",
    "runtime": "ok",
    "opacus": ">=1.6",  # 1.5.4 returns a GradSampleModule (no `cleanup`); 1.4.1 rejects the keyword
}
