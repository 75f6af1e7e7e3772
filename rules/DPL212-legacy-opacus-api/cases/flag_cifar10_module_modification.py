"""The Opacus 0.x CIFAR10 example's shape: BatchNorm converted with `module_modification`, the model
checked with `DPModelInspector`, and the engine built from `batch_size` and `sample_size`. The imports
sit in `main()`, as in scripts that import Opacus only when `--disable-dp` is off."""

import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def convnet(num_classes):
    return nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(start_dim=1, end_dim=-1), nn.Linear(8, num_classes, bias=True),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="PyTorch CIFAR10 DP Training")
    parser.add_argument("--batch-size", default=8, type=int)
    parser.add_argument("--sigma", default=1.5, type=float)
    parser.add_argument("--max-per-sample-grad_norm", default=10.0, type=float)
    parser.add_argument("--disable-dp", action="store_true", default=False)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    train_dataset = TensorDataset(torch.randn(32, 3, 8, 8, generator=generator), torch.randint(0, 10, (32,), generator=generator))
    train_loader = DataLoader(train_dataset, batch_size=args.batch_size, shuffle=True)
    model = convnet(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if not args.disable_dp:
        from opacus import PrivacyEngine
        from opacus.utils import module_modification  # expect: DPL212

        model = module_modification.convert_batchnorm_modules(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        privacy_engine = PrivacyEngine(  # expect: DPL212
            model,
            batch_size=args.batch_size,
            sample_size=len(train_loader.dataset),
            alphas=[1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)),
            noise_multiplier=args.sigma,
            max_grad_norm=args.max_per_sample_grad_norm,
            clip_per_layer=False,
        )
        privacy_engine.attach(optimizer)
    for images, target in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), target).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "reaches_engine": False,
    "error": "cannot import name 'module_modification' from 'opacus.utils'",
}
