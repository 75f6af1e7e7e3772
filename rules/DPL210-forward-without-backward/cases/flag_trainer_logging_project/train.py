# Mirrors a project whose trainer (trainer.DPTrainer) makes the model private in __init__ and, every
# `log_every` steps, logs the batch accuracy through metrics.top1() on a second forward of
# `self.model`, between backward and step, with grad enabled. Opacus' hooks record that forward and no
# backward consumes it: the step raises `ValueError: Per sample gradient is not initialized. Not
# updated in backward pass?` (measured, opacus 1.6.0). Fix: run it under `torch.no_grad()`.
import torch
from torch.utils.data import TensorDataset

from config import Config
from trainer import DPTrainer


def main():
    generator = torch.Generator().manual_seed(7)
    dataset = TensorDataset(torch.randn(40, 7, generator=generator), torch.randint(0, 3, (40,), generator=generator))
    config = Config()
    trainer = DPTrainer(config, dataset)
    for epoch in range(config.epochs):
        trainer.train_epoch(epoch)


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
