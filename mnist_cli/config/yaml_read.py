"""The project's one YAML reader: PyYAML's safe loader, reading numbers as people write them.

PyYAML follows YAML 1.1, whose float pattern needs a dot, so `learning_rate: 1e-3` (the usual
way to write a learning rate) arrives as the string '1e-3' and is refused as "not a number".
YAML 1.2 reads it as a float; this loader adds that form (`1e-3`, `5E+2`, `2.5e-4`) and
otherwise resolves exactly as `yaml.safe_load` does: no Python tags, no code. Every YAML read
of a config, `--set` value, search space or saved run goes through `load_yaml`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YAMLError = yaml.YAMLError

# YAML 1.2 core-schema floats (exponent without a dot included) plus YAML 1.1's extras that
# safe_load already accepts (underscores, sexagesimal 1:30.5, .inf, .nan), so nothing that
# read as a number before reads as a string now.
FLOAT = re.compile(r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.VERBOSE)


class NumberLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` whose float resolver is the one above (SafeLoader is not changed)."""


FLOAT_TAG = "tag:yaml.org,2002:float"
# The same resolvers in the same order (each keyed by the characters a match may start
# with: -+0123456789. for floats), the float pattern swapped for the one above.
NumberLoader.yaml_implicit_resolvers = {
    first: [(tag, FLOAT if tag == FLOAT_TAG else regexp) for tag, regexp in resolvers]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse one YAML document (raises YAMLError on a syntax error or an unsafe tag)."""
    return yaml.load(text, Loader=NumberLoader)  # safe: a SafeLoader subclass
