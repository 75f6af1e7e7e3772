# Mirrors Hinton-style knowledge distillation with a pretrained teacher frozen in the constructor
# (`p.requires_grad = False` for each parameter). Reading the teacher logits through `.data` is a
# stop-gradient, but on a frozen module it loses nothing: Opacus does not track frozen modules,
# and the student's per-sample gradients are exact.
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self, width, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, width, kernel_size=3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.pool(F.gelu(self.conv(x))).flatten(1))


class Distiller(nn.Module):
    def __init__(self, T=4.0, alpha=0.9):
        super().__init__()
        self.student = SmallCNN(width=8)
        self.teacher = SmallCNN(width=16)
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.T, self.alpha = T, alpha

    def forward(self, images, labels):
        s_logits = self.student(images)
        t_logits = self.teacher(images).data
        kd = F.kl_div(
            F.log_softmax(s_logits / self.T, dim=1),
            F.softmax(t_logits / self.T, dim=1),
            reduction="none",
        ).sum(1)
        ce = F.cross_entropy(s_logits, labels, reduction="none")
        return self.alpha * self.T * self.T * kd + (1 - self.alpha) * ce


CASE = {
    "model": "Distiller",
    "inputs": ["float[B, 3, 8, 8]", "long[B] < 10"],
    "runtime": "ok",
}
