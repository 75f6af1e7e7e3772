# Mirrors facebookresearch/moco's builder ported to DP: the training script passes the encoder
# class, `MoCo(TinyResNet, args.moco_dim, ...)`, and `__init__` builds both encoders from it. The
# port copies the query weights into the key encoder but drops `param_k.requires_grad = False`:
# the key encoder only runs under torch.no_grad(), its parameters get no per-sample gradient, and
# optimizer.step() raises "Per sample gradient is not initialized" (measured, opacus 1.6.0).
import torch
import torch.nn as nn
import torch.nn.functional as F


class MoCo(nn.Module):
    """MoCo v2 with in-batch negatives (after facebookresearch/moco's builder.py)."""

    def __init__(self, base_encoder, dim=16, m=0.999, T=0.2, mlp=True):
        super().__init__()
        self.m = m
        self.T = T
        self.encoder_q = base_encoder(num_classes=dim)
        self.encoder_k = base_encoder(num_classes=dim)  # expect: DPL003
        if mlp:
            dim_mlp = self.encoder_q.fc.weight.shape[1]
            self.encoder_q.fc = nn.Sequential(nn.Linear(dim_mlp, dim_mlp), nn.ReLU(), self.encoder_q.fc)
            self.encoder_k.fc = nn.Sequential(nn.Linear(dim_mlp, dim_mlp), nn.ReLU(), self.encoder_k.fc)
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data = param_k.data * self.m + param_q.data * (1.0 - self.m)

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            k = F.normalize(self.encoder_k(im_k), dim=1)
        logits = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1) / self.T
        return logits
