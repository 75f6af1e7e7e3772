"""Fine-tune with ghost clipping (Opacus' memory-saving mode).

Two silent privacy violations, neither raises anything:
- `criterion=F.cross_entropy` is a function, not an `nn.*Loss` module: the loss ghost clipping
  wraps reduces over the batch, and per-sample clipping silently does not happen (DPL201);
- the loop iterates `train_loader`, the loader given to make_private, instead of the one it
  returned: batches are not Poisson-sampled and the reported epsilon is wrong (DPL205).
`dp-lint verify --run "python train.py" --steps 3` measures both.
"""

import argparse

import torch
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from model import TextClassifier


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 100, (128, 12), generator=generator)
    labels = torch.randint(0, 4, (128,), generator=generator)
    train_loader = DataLoader(TensorDataset(ids, labels), batch_size=args.batch_size, shuffle=True)

    model = TextClassifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    privacy_engine = PrivacyEngine()
    model, optimizer, criterion, private_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        criterion=F.cross_entropy,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        grad_sample_mode="ghost",
    )
    for epoch in range(args.epochs):
        for input_ids, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(input_ids), y)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: epsilon {privacy_engine.get_epsilon(delta=1e-5):.2f}")


if __name__ == "__main__":
    main()
