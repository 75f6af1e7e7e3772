import torch.nn.functional as F


def train_epoch(model, optimizer, train_dataloader):
    model.train()
    for input_ids, labels in train_dataloader:
        optimizer.zero_grad()
        F.cross_entropy(model(input_ids), labels).backward()
        optimizer.step()
