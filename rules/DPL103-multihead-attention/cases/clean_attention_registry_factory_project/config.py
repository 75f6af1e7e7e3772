# Part of the multi-file case (see encoder/blocks.py): the model configuration.
MODEL = {"attention": "opacus", "vocab": 50, "dim": 16, "heads": 1, "depth": 2, "classes": 4}
