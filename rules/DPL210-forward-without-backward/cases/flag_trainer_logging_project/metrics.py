# Part of the multi-file case (see train.py): metrics.
def top1(logits, labels):
    return (logits.argmax(dim=-1) == labels).float().mean()
