# Part of the multi-file case (see train.py): the helper that freezes a pretrained part of a model.


def freeze(module):
    for parameter in module.parameters():
        parameter.requires_grad = False
    return module
