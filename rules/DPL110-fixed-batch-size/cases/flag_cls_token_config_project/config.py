"""Training settings shared by the model and the script."""

BATCH_SIZE = 16
PATCHES = 4
DIM = 8
