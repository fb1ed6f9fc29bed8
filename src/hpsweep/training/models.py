"""The networks of the `model` config group.

Each class takes its knobs from conf/model/<name>.yaml and, from train.py, the shape
of one input sample, the number of outputs and the dropout probability of the
`regularization` group, so that any model combines with any data and regularization.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


def make_dropout(p: float, kind: type[nn.Module] = nn.Dropout) -> nn.Module:
    """Dropout with probability p, or an identity at p = 0: a Dropout(0.0) still costs
    every training step a call (48 of 850 us a step of the default digits MLP), and an
    Identity keeps the layer's place, so checkpoints' keys do not depend on p."""
    return kind(p) if p > 0 else nn.Identity()


def make_activation(name: str) -> nn.Module:
    """The activation module called `name` (one of ACTIVATIONS)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{name}'; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    """`depth` hidden layers of `width` units on the flattened input."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        depth: int = 2,
        width: int = 128,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        fan_in = math.prod(input_shape)
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), make_activation(activation), make_dropout(dropout)]
            fan_in = width
        layers.append(nn.Linear(fan_in, num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CNN(nn.Module):
    """Conv blocks with "same" padding, global average pooling, a linear head.

    Needs image-shaped samples (channels, height, width), such as digits' 1x8x8.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        channels: tuple[int, ...] = (32, 64),
        kernel: int = 3,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                f"model=cnn needs image data (channels, height, width); this data's samples "
                f"have shape {tuple(input_shape)}: use model=mlp or model=attention"
            )
        blocks: list[nn.Module] = []
        in_channels = input_shape[0]
        for out_channels in channels:
            blocks += [
                nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2),
                make_activation(activation),
                make_dropout(dropout, nn.Dropout2d),
            ]
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(in_channels, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


class Attention(nn.Module):
    """A transformer encoder over tokens, mean-pooled into a linear head.

    Image samples (C, H, W) become H tokens, one per row of C*W values; flat samples
    (F,) become F tokens of one value each. Positions are learned.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        heads: int = 4,
        layers: int = 2,
        dim: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"model.dim={dim} must be divisible by model.heads={heads}")
        if len(input_shape) == 3:
            channels, height, width = input_shape
            num_tokens, token_size = height, channels * width
        else:
            num_tokens, token_size = math.prod(input_shape), 1
        self.num_tokens, self.token_size = num_tokens, token_size
        self.embed = nn.Linear(token_size, dim)
        self.position = nn.Parameter(torch.zeros(1, num_tokens, dim))
        layer = nn.TransformerEncoderLayer(
            d_model=dim,
            nhead=heads,
            dim_feedforward=2 * dim,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        # Nested tensors only speed up padded batches, which we never have; leaving
        # them on makes torch warn that norm_first disables them.
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # (batch, C, H, W) -> (batch, H, C*W): one token per row
            x = x.permute(0, 2, 1, 3)
        tokens = x.reshape(x.shape[0], self.num_tokens, self.token_size)
        encoded = self.encoder(self.embed(tokens) + self.position)
        return self.head(encoded.mean(dim=1))
