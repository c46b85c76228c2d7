"""Config -> compiled-ready `keras.Sequential`. Keras is imported lazily."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from mnist_cli.backend import import_keras, run_once_programs
from mnist_cli.config.optimizers import OPTIMIZERS
from mnist_cli.config.schema import ModelConfig, TrainingConfig
from mnist_cli.errors import ConfigError
from mnist_cli.modeling.precision import dtype_policy, output_layer_kwargs


def make_layer(keras: Any, class_name: str, kwargs: dict[str, Any]) -> Any:
    """Instantiate one layer from `keras.layers`, only from there."""
    cls = getattr(keras.layers, class_name)
    return cls(**kwargs)


def final_activation(model_cfg: ModelConfig) -> dict[str, Any]:
    """Probability outputs get softmax on the last layer unless it names its own activation."""
    last = model_cfg.layers[-1]
    if model_cfg.output == "probabilities" and "activation" not in last.kwargs:
        return {"activation": "softmax"}
    return {}


def check_layers(model_cfg: ModelConfig, source: str = "config") -> None:
    """Build every layer once so bad arguments are reported (all of them) before training."""
    keras = import_keras()
    problems: list[str] = []
    for i, spec in enumerate(model_cfg.layers):
        try:
            make_layer(keras, spec.class_name, spec.kwargs)
        except Exception as exc:  # Keras raises TypeError/ValueError with useful text
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(f"model.layers[{i}] ({spec.class_name}): bad argument: {msg}; "
                            f"use the arguments of keras.layers.{spec.class_name}")
    if problems:
        raise ConfigError(problems, source=source)


def build_model(
    model_cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int | None,
    name: str = "model", precision: str = "float32",
) -> Any:
    """A `keras.Sequential` whose input comes from the data and whose last layer has
    `num_classes` units (checked unless None: a 10-unit config on 3-class data fails clearly).

    `precision` is a Keras dtype policy (float32, mixed_float16, mixed_bfloat16), applied
    to this model only; its last layer stays float32."""
    keras = import_keras()
    with dtype_policy(precision):
        layers = [keras.Input(shape=tuple(input_shape))]
        for i, spec in enumerate(model_cfg.layers):
            kwargs = dict(spec.kwargs)
            if i == len(model_cfg.layers) - 1:
                kwargs = output_layer_kwargs(precision, {**kwargs, **final_activation(model_cfg)})
            layers.append(make_layer(keras, spec.class_name, kwargs))
        model = keras.Sequential(layers, name=_safe_name(name))
    out = model.output_shape[-1]
    if num_classes is not None and out != num_classes:
        raise ConfigError(
            [f"model.layers[-1]: outputs {out} values but the data has {num_classes} classes; "
             f"set units: {num_classes} on the last layer"],
        )
    return model


def check_shapes(model_cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int | None,
                 source: str, precision: str = "float32") -> None:
    """Run the layers on one image of zeros, then build the model (cheap; before any data is
    read, the real model is built after the seeding): a layer that does not fit its input,
    an output that is not one value per class or the wrong number of units (`num_classes`
    None: not known) is a ConfigError naming the layer."""
    keras, x = import_keras(), np.zeros((1, *input_shape), "float32")
    size = "x".join(map(str, input_shape))
    with run_once_programs():  # as `build_in_scope` builds
        for i, spec in enumerate(model_cfg.layers):
            try:
                x = make_layer(keras, spec.class_name, spec.kwargs)(x)
            except Exception as exc:  # Keras's reason is its bold part; TF adds op names
                why = str(exc).split("\x1b[1m")[-1].split("\x1b[0m")[0]
                why = re.sub(r"\{\{.*?\}\}|name:\s*$", "", why).strip(" .").split("\n")[0]
                fix = ("give target_shape as many values as its input has" if spec.class_name
                       == "Reshape" else "use a smaller kernel_size or pool_size, padding: "
                       "same, or fewer pooling layers")
                raise ConfigError([f"model.layers[{i}] ({spec.class_name}): does not fit the "
                                   f"{size} images: {why or type(exc).__name__}; {fix}"],
                                  source=source) from None
        if len(x.shape) != 2:  # the loss needs one value per class for each image
            raise ConfigError([f"model.layers[-1]: outputs shape {tuple(x.shape[1:])} per "
                               "image, not one value per class; add Flatten: {} before it"],
                              source=source)
        try:
            build_model(model_cfg, input_shape, num_classes, source, precision)
        except ConfigError as e:
            raise ConfigError(e.problems, source=source) from None


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name) or "model"


def make_optimizer(training: TrainingConfig) -> Any:
    keras = import_keras()
    cls = getattr(keras.optimizers, OPTIMIZERS[training.optimizer.lower()])
    return cls(learning_rate=training.learning_rate)


def make_loss(model_cfg: ModelConfig) -> Any:
    keras = import_keras()
    return keras.losses.SparseCategoricalCrossentropy(from_logits=model_cfg.output == "logits")


def compile_model(model: Any, model_cfg: ModelConfig, training: TrainingConfig) -> None:
    """Compile with the config's optimizer and a loss matching the output form."""
    model.compile(
        optimizer=make_optimizer(training),
        loss=make_loss(model_cfg),
        metrics=["accuracy"],
    )
