# Mirrors hand-written attention pooling: attention logits from a Linear, then padding masked
# with `masked_fill_` and the scores clamped with `clamp_` for stability. Both tensor methods
# modify the Linear's output in place; under Opacus 1.6.0 that output is a view made by the
# backward hook, and the forward raises
# `RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace`.
# Fix: the out-of-place methods (`scores = scores.masked_fill(...)`, same values).
import torch
import torch.nn as nn


class AttentionPool(nn.Module):
    def __init__(self, dim=16, num_classes=3):
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.gate = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        scores = self.score(x).squeeze(-1)
        mask = x.abs().sum(-1) == 0
        scores = scores.masked_fill(mask, -1e4)  # expect: DPL104
        gates = self.gate(x)
        gates = gates.clamp(min=-5.0, max=5.0)  # expect: DPL104
        weights = torch.softmax(scores, dim=-1).unsqueeze(-1)
        pooled = (weights * torch.sigmoid(gates) * x).sum(1)
        return self.head(pooled)


CASE = {
    "model": "AttentionPool",
    "inputs": ["float[B, 5, 16]"],
    "runtime": "crash",
    "error": "is a view and is being modified inplace",
}
