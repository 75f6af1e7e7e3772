# The project of flag_trainer_logging_project with the logging forward of DPTrainer.train_epoch run
# under `torch.no_grad()`: Opacus' hooks skip it, the step finds every per-sample gradient, and the
# project trains (measured, opacus 1.6.0).
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
    "runtime": "ok",
}
