from .blocks import conv_bn_relu, SEBlock
from .model import SmallCNN
