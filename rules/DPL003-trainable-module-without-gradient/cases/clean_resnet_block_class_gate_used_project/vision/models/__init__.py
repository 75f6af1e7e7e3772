from .resnet import resnet_tiny, ResNet, BasicBlock

__all__ = ["resnet_tiny", "ResNet", "BasicBlock"]
