"""The `keras.layers` classes and `keras.activations` names a config may use, known without
importing TensorFlow, so a misspelt one is refused while the config is read, before any data.

Tests check both lists against the installed Keras so they cannot drift.
"""

from __future__ import annotations

# Classes that can run arbitrary code or need non-YAML arguments are left out on purpose.
FORBIDDEN_LAYERS = frozenset({"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})

ALLOWED_LAYERS = frozenset(
    {
        "Activation", "ActivityRegularization", "AlphaDropout", "AveragePooling1D",
        "AveragePooling2D", "AvgPool2D", "BatchNormalization", "Conv1D", "Conv2D",
        "Conv2DTranspose", "Convolution2D", "Cropping2D", "Dense", "DepthwiseConv2D",
        "Dropout", "ELU", "EinsumDense", "Flatten", "GaussianDropout", "GaussianNoise",
        "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GroupNormalization", "LayerNormalization",
        "LeakyReLU", "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "PReLU", "Permute", "ReLU",
        "RandomContrast", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
        "Rescaling", "Reshape", "SeparableConv2D", "Softmax", "SpatialDropout2D",
        "UnitNormalization", "UpSampling2D", "ZeroPadding2D",
    }
)

# The names `keras.activations.get` accepts (its ALL_OBJECTS_DICT in Keras 3).
ACTIVATIONS = frozenset(
    {
        "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
        "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
        "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
        "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
        "tanh_shrink", "threshold",
    }
)
