"""Every model maps a batch of any supported sample shape to (batch, outputs)."""

from __future__ import annotations

import pytest
import torch

from hpsweep.training.models import CNN, MLP, Attention


@pytest.mark.parametrize(
    ("model", "input_shape"),
    [
        (MLP(input_shape=(1, 8, 8), num_outputs=10, depth=2, width=16), (1, 8, 8)),
        (MLP(input_shape=(5,), num_outputs=10, depth=0), (5,)),
        (MLP(input_shape=(5,), num_outputs=10, activation="gelu", dropout=0.5), (5,)),
        (CNN(input_shape=(1, 8, 8), num_outputs=10, channels=(4, 8), kernel=5), (1, 8, 8)),
        (Attention(input_shape=(1, 8, 8), num_outputs=10, heads=2, layers=1, dim=8), (1, 8, 8)),
        (Attention(input_shape=(5,), num_outputs=10, heads=1, layers=1, dim=4), (5,)),
    ],
    ids=["mlp-image", "mlp-linear", "mlp-gelu", "cnn", "attention-image", "attention-table"],
)
def test_output_shape(model: torch.nn.Module, input_shape: tuple[int, ...]) -> None:
    assert model(torch.randn(3, *input_shape)).shape == (3, 10)


def test_cnn_needs_images() -> None:
    with pytest.raises(ValueError, match="model=cnn needs image data"):
        CNN(input_shape=(5,), num_outputs=2)


def test_attention_dim_divisible_by_heads() -> None:
    with pytest.raises(ValueError, match="divisible"):
        Attention(input_shape=(5,), num_outputs=2, heads=3, dim=8)


def test_unknown_activation() -> None:
    with pytest.raises(ValueError, match="choose one of relu"):
        MLP(input_shape=(5,), num_outputs=2, activation="swish")


@pytest.mark.parametrize("make", [MLP, CNN], ids=["mlp", "cnn"])
def test_no_dropout_is_no_layer_and_keeps_checkpoint_keys(make: type[torch.nn.Module]) -> None:
    without, with_dropout = make((1, 8, 8), 10, dropout=0.0), make((1, 8, 8), 10, dropout=0.3)

    def kinds(model: torch.nn.Module) -> set[str]:
        return {type(m).__name__ for m in model.modules()}

    assert not any(kind.startswith("Dropout") for kind in kinds(without))
    assert any(kind.startswith("Dropout") for kind in kinds(with_dropout))
    assert without.state_dict().keys() == with_dropout.state_dict().keys()
    with_dropout.load_state_dict(without.state_dict())  # a checkpoint of one loads into the other
