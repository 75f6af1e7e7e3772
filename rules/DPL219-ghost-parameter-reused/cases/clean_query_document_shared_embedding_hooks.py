"""The query/document model of the flag case with the same shared `nn.Embedding`, trained in hooks mode (the
argparse default): the hooks add up the per-sample gradients of both calls, and training runs."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class RelevanceModel(nn.Module):
    def __init__(self, vocab_size=50, dim=16):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.scorer = nn.Linear(2 * dim, 2)

    def encode(self, tokens):
        return self.embedding(tokens).mean(dim=1)

    def forward(self, query, document):
        q = self.encode(query)
        d = self.encode(document)
        return self.scorer(torch.cat([q, d], dim=1))


def dataset():
    generator = torch.Generator().manual_seed(0)
    queries = torch.randint(0, 50, (32, 5), generator=generator)
    documents = torch.randint(0, 50, (32, 9), generator=generator)
    labels = torch.randint(0, 2, (32,), generator=generator)
    return TensorDataset(queries, documents, labels)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--grad-sample-mode", default="hooks", choices=["hooks", "ghost"])
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    model = RelevanceModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    privacy_engine = PrivacyEngine()
    model, optimizer, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=args.batch_size),
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode=args.grad_sample_mode,
    )
    criterion = nn.CrossEntropyLoss()
    for query, document, label in loader:
        optimizer.zero_grad()
        loss = criterion(model(query, document), label)
        loss.backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}
