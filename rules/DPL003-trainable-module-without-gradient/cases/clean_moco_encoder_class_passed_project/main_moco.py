import argparse

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from moco.builder import MoCo
from moco.encoders import TinyResNet

parser = argparse.ArgumentParser(description="DP MoCo pre-training")
parser.add_argument("--moco-dim", default=16, type=int)
parser.add_argument("--moco-m", default=0.999, type=float)
parser.add_argument("--moco-t", default=0.2, type=float)
parser.add_argument("--mlp", action="store_true")
parser.add_argument("--lr", default=0.03, type=float)
parser.add_argument("--sigma", default=1.0, type=float)
parser.add_argument("-c", "--max-grad-norm", default=1.0, type=float)


def build_model(args):
    return MoCo(TinyResNet, args.moco_dim, args.moco_m, args.moco_t, args.mlp)


def main():
    args = parser.parse_args([])
    model = build_model(args)
    optimizer = torch.optim.SGD(model.parameters(), args.lr, momentum=0.9)
    data = TensorDataset(torch.randn(32, 3, 8, 8), torch.randn(32, 3, 8, 8))
    loader = DataLoader(data, batch_size=8)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=args.sigma, max_grad_norm=args.max_grad_norm,
    )
    for im_q, im_k in loader:
        logits = model(im_q, im_k)
        loss = -F.logsigmoid(logits).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model._module._momentum_update_key_encoder()
    return loss.item()


def build_for_check():
    return build_model(parser.parse_args([]))


CASE = {
    "model": "build_for_check",
    "inputs": ["float[B, 3, 8, 8]", "float[B, 3, 8, 8]"],
    "runtime": "ok",
}
