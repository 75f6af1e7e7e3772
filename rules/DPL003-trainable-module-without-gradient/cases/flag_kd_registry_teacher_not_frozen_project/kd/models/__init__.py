from .nets import ConvNet, MLPNet
from .distill import DistillWrapper

ARCHS = {
    "convnet": ConvNet,
    "mlp": MLPNet,
}


def build_model(arch, **kwargs):
    if arch not in ARCHS:
        raise KeyError(f"unknown arch {arch}")
    return ARCHS[arch](**kwargs)
