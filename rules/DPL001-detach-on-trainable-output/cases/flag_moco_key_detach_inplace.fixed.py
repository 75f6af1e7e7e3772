# Mirrors MoCo v2 (Chen et al., 2020): query encoder, key encoder, and a queue of negative keys
# kept in a buffer. The key encoder should run under `torch.no_grad()` with its parameters frozen;
# here it runs with grad enabled and its output is detached in place with `.detach_()`. Under
# Opacus the hooked Linear's output is a view created by the backward hook, and detaching a view
# in place raises at once in forward (without Opacus it would only fail later, at step()).
# Fix: freeze the key encoder and compute the keys under `torch.no_grad()`.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class MoCo(nn.Module):
    def __init__(self, in_dim=32, dim=16, queue_size=24, temperature=0.2):
        super().__init__()
        self.encoder_q = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.encoder_k = copy.deepcopy(self.encoder_q)  # expect: DPL003
        self.encoder_k.requires_grad_(False)
        self.T = temperature
        self.register_buffer("queue", F.normalize(torch.randn(dim, queue_size), dim=0))

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            k = self.encoder_k(im_k)
        k = F.normalize(k, dim=1)
        l_pos = torch.einsum("nc,nc->n", q, k).unsqueeze(-1)
        l_neg = torch.einsum("nc,ck->nk", q, self.queue.clone().detach())
        logits = torch.cat([l_pos, l_neg], dim=1) / self.T
        labels = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        return F.cross_entropy(logits, labels, reduction="none")


CASE = {
    "model": "MoCo",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "crash",
    "error": "Can't detach views in-place",
    # Before 1.5.4 Opacus used register_backward_hook: detach_() passes, and step() raises instead.
    "versions": {"<1.5.4": {"error": "Per sample gradient is not initialized"}},
}
