"""Query/document relevance with one token embedding for both texts, in ghost mode from an argparse default. The
helper `encode` is called once per text, so the `nn.Embedding` serves two calls in one forward pass and ghost
clipping raises at the first forward."""

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
        d = self.encode(document)  # expect: DPL219
        return self.scorer(torch.cat([q, d], dim=1))


def dataset():
    generator = torch.Generator().manual_seed(0)
    queries = torch.randint(0, 50, (32, 5), generator=generator)
    documents = torch.randint(0, 50, (32, 9), generator=generator)
    labels = torch.randint(0, 2, (32,), generator=generator)
    return TensorDataset(queries, documents, labels)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--grad-sample-mode", default="ghost", choices=["hooks", "ghost"])
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    model = RelevanceModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    privacy_engine = PrivacyEngine()
    model, optimizer, criterion, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=args.batch_size),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0,
        grad_sample_mode=args.grad_sample_mode,
    )
    for query, document, label in loader:
        optimizer.zero_grad()
        loss = criterion(model(query, document), label)
        loss.backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}
