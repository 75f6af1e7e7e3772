# Mirrors FitNets hint training (Romero et al., 2015): a regressor maps the student's intermediate
# feature map onto the teacher's, and the hint loss compares them. The teacher stem runs with
# grad enabled in forward and its features are detached only inside the loss method; the stem
# was never frozen, so it owns trainable parameters without per-sample gradients:
# DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: `self.teacher_stem.requires_grad_(False)` and call it under `torch.no_grad()`.
import torch.nn as nn
import torch.nn.functional as F


class FitNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.student_stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.GELU())
        self.student_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, num_classes))
        self.regressor = nn.Conv2d(4, 8, kernel_size=1)
        self.teacher_stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU())  # expect: DPL003
        self.teacher_stem.requires_grad_(False)

    def hint_loss(self, student_feat, teacher_feat):
        guided = self.regressor(student_feat)
        return (guided - teacher_feat.detach()).pow(2).mean(dim=(1, 2, 3))  # expect: DPL001

    def forward(self, images, labels):
        s_feat = self.student_stem(images)
        logits = self.student_head(s_feat)
        t_feat = self.teacher_stem(images)
        ce = F.cross_entropy(logits, labels, reduction="none")
        return ce + 0.5 * self.hint_loss(s_feat, t_feat)


CASE = {
    "model": "FitNet",
    "inputs": ["float[B, 3, 8, 8]", "long[B] < 10"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
