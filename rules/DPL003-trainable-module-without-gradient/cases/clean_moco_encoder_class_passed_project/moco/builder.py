# Clean twin of flag_moco_encoder_class_passed_project: the key encoder (built from the class the
# script passes, `MoCo(TinyResNet, ...)`) is frozen in the `zip` loop that copies the query weights,
# so only the query encoder is trained; measured exact per-sample gradients on opacus 1.6.0.
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
        self.encoder_k = base_encoder(num_classes=dim)
        if mlp:
            dim_mlp = self.encoder_q.fc.weight.shape[1]
            self.encoder_q.fc = nn.Sequential(nn.Linear(dim_mlp, dim_mlp), nn.ReLU(), self.encoder_q.fc)
            self.encoder_k.fc = nn.Sequential(nn.Linear(dim_mlp, dim_mlp), nn.ReLU(), self.encoder_k.fc)
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)
            param_k.requires_grad = False

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
