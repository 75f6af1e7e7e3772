# Mirrors Hinton-style knowledge distillation (Hinton et al., 2015) with the teacher kept inside
# the model: the teacher's logits are taken through `.data`, which cuts the graph like `.detach()`.
# The teacher (pretrained in the real setup) was never frozen, so its parameters are trainable and
# get no per-sample gradient: DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: `self.teacher.requires_grad_(False)` and compute the logits under `torch.no_grad()`.
import torch.nn as nn
import torch.nn.functional as F
import torch


class ConvNet(nn.Module):
    def __init__(self, width, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, kernel_size=3, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


class DistillationModel(nn.Module):
    def __init__(self, temperature=4.0):
        super().__init__()
        self.student = ConvNet(width=8)
        self.teacher = ConvNet(width=16)  # expect: DPL003
        self.teacher.requires_grad_(False)
        self.T = temperature

    def forward(self, images):
        student_logits = self.student(images)
        with torch.no_grad():
            teacher_logits = self.teacher(images)  # expect: DPL001
        soft_targets = F.softmax(teacher_logits / self.T, dim=-1)
        log_probs = F.log_softmax(student_logits / self.T, dim=-1)
        kd = F.kl_div(log_probs, soft_targets, reduction="none").sum(-1) * self.T**2
        return student_logits, kd


CASE = {
    "model": "DistillationModel",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
