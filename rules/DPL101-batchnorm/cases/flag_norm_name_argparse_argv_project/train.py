# Part of the multi-file case (see vision/net.py): the command-line training script.
import argparse

import torch
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from vision.net import SmallConvNet


def get_args(argv=None):
    parser = argparse.ArgumentParser(description="DP image classifier")
    parser.add_argument("--norm", default="BatchNorm2d", help="a torch.nn normalisation class")
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.1)
    return parser.parse_args(argv)


def main(argv=None):
    args = get_args(argv)
    data = TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 10, (32,)))
    loader = DataLoader(data, batch_size=8)
    model = SmallConvNet(width=args.width, norm=args.norm)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0
    )
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


if __name__ == "__main__":
    main()
