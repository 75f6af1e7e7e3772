# Part of the multi-file case (see tagger/model.py): the command-line training script.
import argparse

import torch
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from tagger.model import build_model


def parse(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--rnn", default="dpgru")
    parser.add_argument("--hidden", type=int, default=16)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    loader = DataLoader(TensorDataset(torch.randint(0, 40, (32, 6)), torch.randint(0, 5, (32,))), batch_size=8)
    model = build_model(args)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
