# Part of the multi-file case (see textcls/model.py): the entry point.
import torch
from torch.utils.data import DataLoader, TensorDataset

from textcls.config import TrainConfig
from textcls.model import LSTMClassifier
from textcls.trainer import Trainer


def main():
    cfg = TrainConfig()
    data = TensorDataset(torch.randint(0, cfg.vocab_size, (32, 7)), torch.randint(0, cfg.num_classes, (32,)))
    loader = DataLoader(data, batch_size=8)
    model = LSTMClassifier(cfg.vocab_size, cfg.embed_dim, cfg.hidden, cfg.num_classes)
    return Trainer(model, cfg, loader).fit()


if __name__ == "__main__":
    main()
