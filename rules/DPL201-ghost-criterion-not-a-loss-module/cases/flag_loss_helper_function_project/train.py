# Mirrors a ghost-clipping training script whose loss comes from a project helper:
# losses.get_loss_fn() returns the function F.cross_entropy, passed as `criterion=` to
# make_private(..., grad_sample_mode="ghost"). Opacus 1.6.0 wraps it without error, but a function
# gives ghost clipping no per-sample losses to clip: the update exceeds the clipping bound
# (measured with outlier samples), so the privacy guarantee does not hold. Fix: return
# nn.CrossEntropyLoss() from the helper.
import torch
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from losses import get_loss_fn
from model import Classifier


def main():
    x = torch.randn(64, 10)
    x[::8] *= 100
    loader = DataLoader(TensorDataset(x, torch.randint(0, 3, (64,))), batch_size=16)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = get_loss_fn()
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, criterion=loss_fn,  # expect: DPL201
        noise_multiplier=0.0, max_grad_norm=0.01, grad_sample_mode="ghost")
    for features, labels in loader:
        optimizer.zero_grad()
        criterion(model(features), labels).backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.6",  # measured on 1.6.0 only (1.5.4 crashes on a function criterion, see the other cases)
    "script": "main",
    "runtime": "silent",
    "violation": "clipping",
}
