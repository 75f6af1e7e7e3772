"""Next-token scoring with an HF-style tied LM head, trained with ghost clipping. The tie (written in
`tie_weights()`, under `config.tie_word_embeddings`, True by default) makes the embedding's weight serve
the embedding and the head in one forward pass: ghost clipping refuses it at the first forward."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from tinylm.configuration import TinyLMConfig
from tinylm.modeling import TinyLMForSequenceScoring


def parse_args(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv=()):
    args = parse_args(list(argv))
    config = TinyLMConfig(vocab_size=32, hidden_size=16)
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, config.vocab_size, (32, 6), generator=generator)
    dataset = TensorDataset(tokens[:, :-1], tokens[:, -1])
    model = TinyLMForSequenceScoring(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=DataLoader(dataset, batch_size=args.batch_size),
        criterion=nn.CrossEntropyLoss(),
        noise_multiplier=1.0,
        max_grad_norm=args.max_grad_norm,
        grad_sample_mode="ghost",
    )
    model.train()
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}
