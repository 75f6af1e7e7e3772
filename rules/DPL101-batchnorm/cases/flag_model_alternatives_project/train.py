# Part of the multi-file case (see vision/nets.py): the DP training script.
import argparse

import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from vision.nets import ConvNet, Teacher, WideConvNet


def main(loader, argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=["convnet", "wide"])
    args = parser.parse_args(argv)
    if args.arch == "convnet":
        model = ConvNet()
    elif args.arch == "wide":
        model = WideConvNet()
    model = model.to("cpu")
    teacher = Teacher().eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, _ in loader:
        with torch.no_grad():
            soft = F.softmax(teacher(x), dim=-1)
        optimizer.zero_grad()
        F.cross_entropy(model(x), soft).backward()
        optimizer.step()
