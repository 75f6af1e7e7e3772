# Twin of flag_train_epoch_helper_project: the epoch helper gets `private_loader`, the loader
# make_private returned, and a public warm-up of another model (never made private) runs over
# `train_loader`: only the private model's batches must come from the DPDataLoader, and they do.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from engine_utils import train_one_epoch
from model import Classifier


def main(epochs=1):
    x = torch.randn(64, 10)
    train_loader = DataLoader(TensorDataset(x, torch.randint(0, 3, (64,))), batch_size=16)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, private_loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.0, max_grad_norm=1.0)
    criterion = nn.CrossEntropyLoss()
    public = Classifier()
    train_one_epoch(public, train_loader, torch.optim.SGD(public.parameters(), lr=0.1), criterion)
    for _ in range(epochs):
        train_one_epoch(model, private_loader, optimizer, criterion)
    return engine.get_epsilon(1e-5)


CASE = {
    "script": "main",
    "runtime": "ok",
}
