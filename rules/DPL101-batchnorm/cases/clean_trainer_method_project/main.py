# Part of the multi-file case (see lib/nets.py): the experiment script, with a non-private baseline.
import torch
import torch.nn.functional as F

from lib.nets import ConvNet, GroupNormConvNet
from lib.trainer import DPTrainer


def baseline(loader):
    model = ConvNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


def main(loader):
    trainer = DPTrainer(GroupNormConvNet(channels=8), lr=0.1)
    return trainer.fit(loader)
