"""The networks of the `model` config group.

Each class takes its knobs from conf/model/<name>.yaml and, from train.py, the shape
of one input sample, the number of outputs and the dropout probability of the
`regularization` group, so that any model combines with any data and regularization.
"""

from __future__ import annotations

import math
from collections import OrderedDict

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


class MLP(nn.Sequential):
    """`depth` hidden layers of `width` units on the flattened input.

    A Sequential itself, with named layers and no dropout layer at p = 0: an epoch of
    the default digits MLP is 17 steps, and each module call a step makes (a wrapper's
    forward, an Identity in dropout's place) cost 2.3% of the epoch together. The
    names keep checkpoints' keys (`hidden1.weight`, `output.bias`) the same whatever
    the dropout.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        depth: int = 2,
        width: int = 128,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        layers: dict[str, nn.Module] = {"flatten": nn.Flatten()}
        fan_in = math.prod(input_shape)
        for layer in range(1, depth + 1):
            layers[f"hidden{layer}"] = nn.Linear(fan_in, width)
            layers[f"activation{layer}"] = make_activation(activation)
            if dropout > 0:
                layers[f"dropout{layer}"] = nn.Dropout(dropout)
            fan_in = width
        layers["output"] = nn.Linear(fan_in, num_outputs)
        super().__init__(OrderedDict(layers))


class CNN(nn.Module):
    """Conv blocks (conv, BatchNorm, activation, 2x2 max pooling), then a dense head.

    The classic small image classifier (Keras' mnist_cnn, PyTorch's MNIST example):
    each block doubles the receptive field and halves the feature map, and the head
    reads the whole flattened map, so where a stroke is still counts. Pooling stops
    at 1x1, so more blocks than the image has halvings keep working. Needs
    image-shaped samples (channels, height, width), such as digits' 1x8x8.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        channels: tuple[int, ...] = (32, 64),
        kernel: int = 3,
        activation: str = "relu",
        hidden: int = 128,
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                f"model=cnn needs image data (channels, height, width); this data's samples "
                f"have shape {tuple(input_shape)}: use model=mlp or model=attention"
            )
        in_channels, height, width = input_shape
        blocks: list[nn.Module] = []
        for out_channels in channels:
            blocks += [
                # BatchNorm has its own shift, so the conv needs no bias.
                nn.Conv2d(
                    in_channels, out_channels, kernel, padding=kernel // 2, bias=not batch_norm
                ),
                nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity(),
                make_activation(activation),
                nn.MaxPool2d(2) if min(height, width) >= 2 else nn.Identity(),
            ]
            in_channels = out_channels
            if min(height, width) >= 2:
                height, width = height // 2, width // 2
        self.features = nn.Sequential(*blocks)
        # Dropout on the flattened features and on the hidden layer, as in mnist_cnn.
        self.head = nn.Sequential(
            nn.Flatten(),
            make_dropout(dropout),
            nn.Linear(in_channels * height * width, hidden),
            make_activation(activation),
            make_dropout(dropout),
            nn.Linear(hidden, num_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Attention(nn.Module):
    """A small vision transformer: tokens, a class token, pre-norm encoder blocks.

    Image samples (C, H, W) become one token per `patch` x `patch` square, embedded
    by ViT's patchify convolution after `stem` 3x3 conv-BatchNorm-ReLU layers (a
    convolutional stem, Xiao et al. 2021, "Early convolutions help transformers see
    better"; stem=0 is the plain ViT). Flat samples (F,) become F tokens, one a
    feature, each with its own embedding (FT-Transformer's feature tokenizer). A learned
    class token (pool=cls) or the tokens' mean (pool=mean) feeds a linear head.
    Positions are learned. `dropout` applies to attention weights and both residual
    branches, as in torch's TransformerEncoderLayer.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        heads: int = 4,
        layers: int = 2,
        dim: int = 64,
        patch: int = 2,
        stem: int = 3,
        mlp_ratio: int = 2,
        pool: str = "cls",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"model.dim={dim} must be divisible by model.heads={heads}")
        if pool not in ("cls", "mean"):
            raise ValueError(f"model.pool={pool!r} must be cls or mean")
        if len(input_shape) == 3:
            self.tokens: nn.Module = PatchTokens(input_shape, dim, patch, stem)
        else:
            self.tokens = FeatureTokens(math.prod(input_shape), dim)
        num_tokens = self.tokens(torch.zeros(1, *input_shape)).shape[1]
        self.pool = pool
        self.cls = nn.Parameter(torch.zeros(1, 1, dim)) if pool == "cls" else None
        # ViT's initialization of positions: small, so early training sees the content.
        self.position = nn.Parameter(torch.randn(1, num_tokens + (pool == "cls"), dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model=dim,
            nhead=heads,
            dim_feedforward=mlp_ratio * dim,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        # Nested tensors only speed up padded batches, which we never have; leaving
        # them on makes torch warn that norm_first disables them.
        self.encoder = nn.TransformerEncoder(
            layer, num_layers=layers, norm=nn.LayerNorm(dim), enable_nested_tensor=False
        )
        self.head = nn.Linear(dim, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.tokens(x)
        if self.cls is not None:
            tokens = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], dim=1)
        encoded = self.encoder(tokens + self.position)
        return self.head(encoded[:, 0] if self.cls is not None else encoded.mean(dim=1))


class PatchTokens(nn.Module):
    """(batch, C, H, W) -> (batch, (H // patch) * (W // patch), dim)."""

    def __init__(self, input_shape: tuple[int, ...], dim: int, patch: int, stem: int) -> None:
        super().__init__()
        channels, height, width = input_shape
        if not 1 <= patch <= min(height, width):
            raise ValueError(f"model.patch={patch} must be in [1, {min(height, width)}]")
        if stem < 0:
            raise ValueError(f"model.stem={stem} must be >= 0")
        layers: list[nn.Module] = []
        for _ in range(stem):
            # Half the token width: the stem only has to find strokes, not classify.
            layers += [
                nn.Conv2d(channels, dim // 2, 3, padding=1, bias=False),
                nn.BatchNorm2d(dim // 2),
                nn.ReLU(),
            ]
            channels = dim // 2
        layers.append(nn.Conv2d(channels, dim, patch, stride=patch))  # ViT's patchify
        self.net = nn.Sequential(*layers, nn.Flatten(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).transpose(1, 2)


class FeatureTokens(nn.Module):
    """(batch, F) -> (batch, F, dim): feature j's token is x_j * w_j + b_j."""

    def __init__(self, num_features: int, dim: int) -> None:
        super().__init__()
        # nn.Linear(1, dim)'s initialization, one per feature.
        self.weight = nn.Parameter(torch.empty(num_features, dim).uniform_(-1, 1))
        self.bias = nn.Parameter(torch.empty(num_features, dim).uniform_(-1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1, 1) * self.weight + self.bias
