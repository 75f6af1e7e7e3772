import argparse

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from kd.models import DistillWrapper, build_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="DP knowledge distillation")
    parser.add_argument("--teacher-arch", default="convnet")
    parser.add_argument("--student-arch", default="mlp")
    parser.add_argument("--teacher-ckpt", default=None)
    parser.add_argument("--temperature", type=float, default=4.0)
    parser.add_argument("--alpha", type=float, default=0.9)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--sigma", type=float, default=1.0)
    parser.add_argument("--max-per-sample-grad-norm", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    return parser.parse_args(argv)


def load_teacher(args):
    teacher = build_model(args.teacher_arch, num_classes=10)
    if args.teacher_ckpt:
        teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu"))
    teacher.eval()
    return teacher


def train(model, loader, args):
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=args.sigma,
        max_grad_norm=args.max_per_sample_grad_norm,
    )
    model.train()
    for x, y in loader:
        logits, kd = model(x)
        loss = (args.alpha * kd + (1 - args.alpha) * F.cross_entropy(logits, y, reduction="none")).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main(argv=None):
    args = parse_args(argv or [])
    teacher = load_teacher(args)
    student = build_model(args.student_arch, num_classes=10)
    model = DistillWrapper(student, teacher, temperature=args.temperature, alpha=args.alpha)
    data = TensorDataset(torch.randn(48, 3, 8, 8), torch.randint(0, 10, (48,)))
    return train(model, DataLoader(data, batch_size=args.batch_size), args)


def build_for_check():
    return DistillWrapper(build_model("mlp", num_classes=10), load_teacher(parse_args([])))


CASE = {
    "model": "build_for_check",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
