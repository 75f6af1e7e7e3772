# Mirrors MoCo v3 (Chen, Xie & He, 2021): base encoder + predictor, and a momentum encoder
# initialised and frozen in the official zip loop (`param_m.requires_grad = False`), called only in
# a `@torch.no_grad()` method. The momentum encoder is frozen, so it is not "trainable without a
# gradient": per-sample gradients of the base encoder and predictor are exact. (MoCo v3 contrasts
# against the other keys of the batch, which mixes samples; this sketch contrasts against a memory
# bank buffer instead, so that each sample's loss is its own.)
import torch
import torch.nn as nn
import torch.nn.functional as F


def build_mlp(num_layers, input_dim, mlp_dim, output_dim):
    layers = []
    for i in range(num_layers):
        dim1 = input_dim if i == 0 else mlp_dim
        dim2 = output_dim if i == num_layers - 1 else mlp_dim
        layers.append(nn.Linear(dim1, dim2, bias=False))
        if i < num_layers - 1:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


class MoCoV3(nn.Module):
    def __init__(self, in_dim=32, dim=16, mlp_dim=24, bank_size=20, T=0.2):
        super().__init__()
        self.T = T
        self.base_encoder = build_mlp(3, in_dim, mlp_dim, dim)
        self.momentum_encoder = build_mlp(3, in_dim, mlp_dim, dim)
        self.predictor = build_mlp(2, dim, mlp_dim, dim)
        for param_b, param_m in zip(self.base_encoder.parameters(), self.momentum_encoder.parameters()):
            param_m.data.copy_(param_b.data)
            param_m.requires_grad = False
        self.register_buffer("bank", F.normalize(torch.randn(bank_size, dim), dim=1))

    @torch.no_grad()
    def _update_momentum_encoder(self, m):
        for param_b, param_m in zip(self.base_encoder.parameters(), self.momentum_encoder.parameters()):
            param_m.data = param_m.data * m + param_b.data * (1.0 - m)

    @torch.no_grad()
    def _keys(self, x):
        return F.normalize(self.momentum_encoder(x), dim=1)

    def contrastive_loss(self, q, k):
        q = F.normalize(q, dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ self.bank.T], dim=1) / self.T
        target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        return F.cross_entropy(logits, target, reduction="none") * (2 * self.T)

    def forward(self, x1, x2):
        q1 = self.predictor(self.base_encoder(x1))
        q2 = self.predictor(self.base_encoder(x2))
        k1, k2 = self._keys(x1), self._keys(x2)
        return self.contrastive_loss(q1, k2) + self.contrastive_loss(q2, k1)


CASE = {
    "model": "MoCoV3",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "ok",
}
