# Mirrors the Opacus recipe for a pretrained nn.LSTM model: the training script runs
# `ModuleValidator.fix(model)` before make_private, which swaps nn.LSTM for a DPLSTM with the same
# arguments and loads its state dict (same function, same weights). The model make_private wraps
# holds no nn.LSTM: it is accepted and per-sample gradients are exact. `build_model` is what
# actually gets trained, so it is what the runtime check builds.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size=60, embed_dim=8, hidden=12, num_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.fc(out[:, -1])


def build_model(checkpoint=None):
    model = SentimentLSTM()
    if checkpoint is not None:
        model.load_state_dict(torch.load(checkpoint))
    return ModuleValidator.fix(model)


def train(loader, epochs=1):
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
    )
    return model, optimizer, loader


CASE = {
    "model": "build_model",
    "inputs": ["long[B, 9] < 60"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}
