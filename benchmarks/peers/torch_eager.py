"""Peer: a PyTorch eager training loop on the CPU.

Same model as mnist-cli's mlp_relu / cnn (the CNN in NCHW, PyTorch's layout; the flattened
features are in (C, H, W) order, a fixed permutation of Keras's (H, W, C) order that the i.i.d.
initialisation does not see), Keras's initialisers (glorot_uniform = xavier_uniform_ weights,
zero biases, instead of PyTorch's own defaults), Adam at the config's rate with Keras's
epsilon, cross-entropy on logits, batch 128 over a seeded per-epoch permutation (index
slicing of in-memory tensors, no DataLoader). PyTorch's default intra-op threads.
"""

from __future__ import annotations

import numpy as np
import peerlib
import torch
from torch import nn


def build(model: str, image_shape: tuple[int, ...]) -> nn.Module:
    """mnist-cli's shipped stacks with Keras's initialisers."""
    h, w, c = image_shape
    if model == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(h * w * c, 25), nn.ReLU(),
                            nn.Linear(25, 15), nn.ReLU(), nn.Linear(15, 10))
    else:
        flat = ((h - 2) // 2) * ((w - 2) // 2) * 32
        net = nn.Sequential(nn.Conv2d(c, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(flat, 64), nn.ReLU(), nn.Linear(64, 10))
    for layer in net:
        if isinstance(layer, nn.Linear | nn.Conv2d):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def train_epoch(net: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                batch_size: int, gen: torch.Generator) -> None:
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(x), generator=gen)
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x[idx]), y[idx]).backward()
        opt.step()


def main() -> None:
    args = peerlib.parser(__doc__.splitlines()[0]).parse_args()
    data = peerlib.load(args.data)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.from_numpy(np.ascontiguousarray(data.x_train.transpose(0, 3, 1, 2)))
    y = torch.from_numpy(data.y_train.astype(np.int64))
    net = build(args.model, data.x_train.shape[1:])
    opt = torch.optim.Adam(net.parameters(), lr=args.learning_rate, eps=peerlib.ADAM_EPSILON)
    clock = peerlib.EpochClock()
    net.train()
    for _ in range(args.epochs):
        clock.start()
        train_epoch(net, opt, x, y, args.batch_size, gen)
        clock.stop()
    net.eval()
    with torch.no_grad():
        logits = net(torch.from_numpy(np.ascontiguousarray(data.x_test.transpose(0, 3, 1, 2))))
    acc = float((logits.argmax(1).numpy() == data.y_test).mean())
    peerlib.emit(peerlib.summary("torch_eager", args, len(data.x_train), clock.seconds, acc))


if __name__ == "__main__":
    main()
