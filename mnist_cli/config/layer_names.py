"""The `keras.layers` classes a config may name, known without importing TensorFlow.

A test checks this list against the installed Keras so it cannot drift.
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
