"""Next-token scoring with a model built on a `PreTrainedModel`-style base class, trained with ghost clipping. The
base class's `post_init()` ties the LM head to the input embeddings (`config.tie_word_embeddings` is True by
default), so the embedding's weight serves two layers in one forward pass: ghost clipping refuses it."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from tinylm.configuration import TinyConfig
from tinylm.modeling_tiny import TinyForCausalLM


def main():
    config = TinyConfig(vocab_size=32, hidden_size=16)
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, config.vocab_size, (32, 6), generator=generator)
    loader = DataLoader(TensorDataset(tokens[:, :-1], tokens[:, -1]), batch_size=8)
    model = TinyForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        criterion=nn.CrossEntropyLoss(),
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        grad_sample_mode="ghost",
    )
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}
