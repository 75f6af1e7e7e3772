# Twin of flag_teacher_only_eval_in_script_project: the training script freezes the teacher
# (`teacher.requires_grad_(False)`) before handing it to `Distiller(teacher)`, so the private
# model's only trainable parameters are the student's, and training works. The freeze is done
# to the object, in the script: the class alone cannot tell.
import torch
import torch.nn as nn


class Teacher(nn.Module):
    def __init__(self, dim=16, num_classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.net(x)


class Distiller(nn.Module):
    def __init__(self, teacher, dim=16, num_classes=4):
        super().__init__()
        self.teacher = teacher
        self.student = nn.Linear(dim, num_classes)

    def forward(self, x):
        with torch.no_grad():
            soft = self.teacher(x).softmax(-1)
        return self.student(x) + soft


def build_distiller():
    teacher = Teacher()
    teacher.requires_grad_(False)
    teacher.eval()
    return Distiller(teacher)


CASE = {
    "model": "build_distiller",
    "inputs": ["float[B, 16]"],
    "runtime": "ok",
}
