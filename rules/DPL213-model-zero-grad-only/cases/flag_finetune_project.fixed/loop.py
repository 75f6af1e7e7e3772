import torch.nn.functional as F


def train_epoch(model, optimizer, train_dataloader, scheduler=None):
    model.train()
    for input_ids, labels in train_dataloader:
        loss = F.cross_entropy(model(input_ids), labels)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        model.zero_grad()  # expect: DPL213
        optimizer.zero_grad()
