# Mirrors MoCo (He et al., 2020) with the constructor's zip loop copying the query weights into
# the key encoder but missing the `param_k.requires_grad = False` line of the official code. The
# keys are computed in a helper method under `torch.no_grad()`, so the key encoder's trainable
# parameters never get a per-sample gradient: DPOptimizer.step() raises "Per sample gradient is
# not initialized". Fix: add `param_k.requires_grad = False` to the loop.
import torch
from torch import nn
import torch.nn.functional as F


class QueryEncoder(nn.Module):
    def __init__(self, in_dim=32, hidden=24, dim=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU())
        self.fc = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc(self.body(x))


class MoCo(nn.Module):
    def __init__(self, dim=16, queue_size=24, momentum=0.999, temperature=0.07):
        super().__init__()
        self.encoder_q = QueryEncoder(dim=dim)
        self.encoder_k = QueryEncoder(dim=dim)  # expect: DPL003
        self.encoder_k.requires_grad_(False)
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)
        self.m, self.T = momentum, temperature
        self.register_buffer("queue", F.normalize(torch.randn(dim, queue_size), dim=0))

    def _compute_keys(self, im_k):
        with torch.no_grad():
            return F.normalize(self.encoder_k(im_k), dim=1)

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        k = self._compute_keys(im_k)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ self.queue.clone().detach()], dim=1)
        labels = torch.zeros(q.shape[0], dtype=torch.long)
        return F.cross_entropy(logits / self.T, labels, reduction="none")


CASE = {
    "model": "MoCo",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
