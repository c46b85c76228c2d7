"""The documentation (README.md and docs/**/*.md) says only what the tool does.

Every `mnist-cli ...` line shown parses against the app, every flag and config key named
exists, the GitHub Actions example is valid for GitHub, Python blocks compile and the marked
ones run, documented outputs match a real run of their command, and the generated command
reference covers every command and flag. docs/development.md ("Documentation") lists the
markers these tests read.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from mnist_cli.cli import reference
from mnist_cli.cli.app import app
from tests.helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
MARK = re.compile(r"<!-- ((?:test|output): [^>]*?) -->\s*$")
NOT_OURS = {"--help", "--logdir", "--strict"}  # --help; tensorboard's --logdir; mkdocs --strict
FILES = {"keras", "json", "yaml", "csv", "png", "npz", "py", "md", "tflite", "onnx"}  # model.keras
NOT_KEYS = {"model.fit", "model.export"}  # Keras's Model methods, named in the prose
TOLERANCE = 0.005
"""A documented first-epoch loss or accuracy vs a real run: another version moves these by
0.01 or more (the stale README's epoch 1 was off by 0.0107), another CPU's rounding by ~1e-5."""
LATER_TOLERANCE = 0.03
"""Any later number: rounding differences between CPUs (AVX2 vs AVX-512 kernels) compound
over epochs, and one test prediction of 360 flipping moves an accuracy by 0.0028, so a
tighter bound would depend on this CPU. Still catches a different model, data or engine."""
FIRST_EPOCH = re.compile(r"(^|: )epoch 1/")


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    text: str
    marker: str  # "output: checked, exit=1", "test: run", or ""

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@functools.cache
def blocks(path: Path) -> list[Block]:
    """Fenced blocks of a page, each with the `<!-- ... -->` marker line right above it."""
    text = path.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = MARK.search(before)
        found.append(Block(path, text[:m.start()].count("\n") + 1, m[1], m[2],
                           mark[1] if mark else ""))
    return found


def prose(path: Path) -> str:
    """A page without its fenced blocks."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def inline_code(path: Path) -> list[str]:
    return re.findall(r"`([^`\n]+)`", prose(path))


# --- command lines -----------------------------------------------------------------------

def shell_lines(text: str) -> list[str]:
    """Shell lines of a block: continuations joined, a `$ ` prompt dropped."""
    lines = text.replace("\\\n", " ").splitlines()
    return [line.strip().removeprefix("$ ") for line in lines]


def workflow_commands(block: Block) -> list[str]:
    """The `run:` lines of a GitHub Actions workflow block."""
    data = yaml.safe_load(block.text)
    if not isinstance(data, dict) or "jobs" not in data:
        return []
    steps = [s for job in data["jobs"].values() for s in job.get("steps", [])]
    return [line for s in steps if "run" in s for line in shell_lines(s["run"])]


def documented_commands() -> list[tuple[str, str]]:
    """(where, `mnist-cli ...` line) for every command line in a code block or inline code
    (where a bare `mnist-cli export` names the command rather than runs it)."""
    names = {path for path, _ in reference.walk(reference.root_command())}
    found = []
    for path in DOCS:
        for block in blocks(path):
            if block.lang == "python":
                continue
            lines = workflow_commands(block) if block.lang == "yaml" else shell_lines(block.text)
            found += [(block.where(), line) for line in lines if line.startswith("mnist-cli ")]
        found += [(str(path.relative_to(ROOT)), code) for code in inline_code(path)
                  if code.startswith("mnist-cli ") and code not in names
                  and not re.search(r"[\[|]|\.\.\.", code)]
    return found


def argv(line: str) -> list[str]:
    """The arguments of a `mnist-cli ...` line, up to a redirection, pipe or `&&`."""
    words = shlex.split(line, comments=True)[1:]
    for i, word in enumerate(words):
        if word in ("|", "&&", ";") or re.match(r"\d?>", word):
            return words[:i]
    return words


@functools.cache
def inert_app() -> Any:
    """A fresh command tree whose parameter callbacks are removed: parsing it can never
    print the version or install shell completion (`--install-completion` does so)."""
    root = typer.main.get_command(app)
    for _, command in reference.walk(root):
        for param in command.params:
            param.callback = None
    return root


def parse(args: list[str]) -> Any:
    """Parse like `mnist-cli ARGS` would (flags, arities, value types), running nothing."""
    command, name, parent = inert_app(), "mnist-cli", None
    while True:
        ctx = command.make_context(name, list(args), parent=parent)
        rest = [*ctx._protected_args, *ctx.args]
        if not getattr(command, "commands", None) or not rest:
            return ctx
        name, command, args = command.resolve_command(ctx, rest)
        parent = ctx


def test_every_documented_command_line_parses() -> None:
    commands = documented_commands()
    assert len(commands) >= 50  # the scan finds them (README, guides, workflow, inline)
    failures = []
    for where, line in commands:
        if "--help" in argv(line):  # click's own flag; parsing would print the help
            continue
        try:
            parse(argv(line))
        except Exception as exc:  # noqa: BLE001 - collected and shown together
            failures.append(f"{where}: {line}\n    {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


def test_a_wrong_command_line_is_caught() -> None:
    for bad in ("mnist-cli train --epoch 3", "mnist-cli export RUN --quantize",
                "mnist-cli train --image-shape 28", "mnist-cli evaluate a b",
                "mnist-cli train --pixel-max 0", "mnist-cli confg show"):
        with pytest.raises(Exception):  # noqa: B017 - click's usage errors vary
            parse(argv(bad))


# --- flags and config keys --------------------------------------------------------------

def app_flags() -> set[str]:
    return {o for _, command in reference.walk(reference.root_command())
            for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}


def test_docs_name_no_flag_that_does_not_exist() -> None:
    flags = app_flags()
    for path in DOCS:
        text = "\n".join(b.text for b in blocks(path) if b.lang != "python") + prose(path)
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))
        assert not sorted(named - flags - NOT_OURS), path.name


def test_every_flag_is_explained_in_a_guide() -> None:
    """The generated reference lists every flag; the hand-written pages explain each too."""
    text = "".join(p.read_text(encoding="utf-8") for p in DOCS)
    assert not sorted(f for f in app_flags() - {"--build"} if f not in text)  # --no-build is


def config_keys_named(path: Path) -> set[str]:
    """Dotted keys (`training.epochs`) in inline code and non-Python blocks."""
    texts = inline_code(path) + [b.text for b in blocks(path) if b.lang != "python"]
    pattern = r"(?<![\w./-])((?:model|training|data)\.([a-z_]+))\b(?![(/.])"
    return {m for text in texts for m, leaf in re.findall(pattern, text) if leaf not in FILES}


def test_every_config_key_named_exists() -> None:
    from mnist_cli.config.docs import key_docs
    from mnist_cli.config.load import RETIRED_KEYS

    known = set(key_docs()) | set(RETIRED_KEYS)
    named = {k: p.name for p in DOCS for k in config_keys_named(p) - NOT_KEYS}
    assert len(named) > 15
    assert not sorted(f"{k} ({p})" for k, p in named.items() if k not in known)


def test_config_blocks_are_valid_configs() -> None:
    from mnist_cli.config import resolve_config
    from mnist_cli.config.yaml_read import load_yaml

    configs = [load_yaml(b.text) for p in DOCS for b in blocks(p) if b.lang == "yaml"]
    configs = [c for c in configs if isinstance(c, dict) and "model" in c]
    assert configs
    for raw in configs:
        resolve_config(raw)  # a ConfigError names the bad key


# --- the GitHub Actions example ----------------------------------------------------------

def documented_workflow() -> dict[str, Any]:
    (block,) = [b for b in blocks(ROOT / "docs" / "ci.md")
                if b.lang == "yaml" and b.text.startswith("# .github/workflows/")]
    data = yaml.safe_load(block.text)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true; GitHub does not
    return data


def workflow_errors(workflow: dict[str, Any]) -> list[str]:
    """Messages of GitHub's workflow schema (SchemaStore's, vendored by check-jsonschema)."""
    from importlib.resources import files

    import jsonschema

    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads(vendor.joinpath("github-workflows.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [e.message for e in validator.iter_errors(workflow)]


def test_ci_workflow_is_valid_for_github() -> None:
    workflow = documented_workflow()
    assert workflow_errors(workflow) == []
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["on"]["push"] == {"branches": ["main"]} and "pull_request" in workflow["on"]
    steps = workflow["jobs"]["smoke-train"]["steps"]
    setup = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert setup and setup[0]["with"]["cache"] == "pip"


def test_the_workflow_schema_catches_mistakes() -> None:
    for mistake in ({"permissions": {"contents": "reed"}}, {"on": {"push": {"branch": ["main"]}}},
                    {"on": {"pull_requests": None}}):
        broken = copy.deepcopy(documented_workflow())
        broken.update(mistake)
        assert workflow_errors(broken), mistake


# --- the generated reference -------------------------------------------------------------

def test_cli_reference_names_every_command_and_flag() -> None:
    page = reference.expand((ROOT / "docs" / "commands.md").read_text(encoding="utf-8"))
    assert "<!-- generated" not in page
    for path, command in reference.walk(reference.root_command()):
        assert f"## `{path}`" in page, path
        section = page.split(f"## `{path}`\n", 1)[1].split("\n## `", 1)[0]
        for param in command.params:
            for opt in (*param.opts, *param.secondary_opts):
                if opt.startswith("-"):
                    assert re.search(rf"`[^`]*(?<![\w-]){opt}(?![\w-])", section), (path, opt)
    assert app_flags() <= set(re.findall(r"--[a-z][a-z0-9-]*", page))


def test_config_reference_has_every_key_and_its_doc() -> None:
    from mnist_cli.config.docs import key_docs

    page = reference.expand((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))
    for key, doc in key_docs().items():
        assert f"| `{key}` |" in page and reference.text(doc) in page, key
    assert "name: cnn" in page and "Conv2D" in page  # the shipped configs, as written


def test_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = typer.main.get_command(app).commands
    assert not sorted(n for n in names if f"`mnist-cli {n}" not in readme)
    assert len(readme.splitlines()) <= 200


@pytest.mark.slow
def test_site_builds_strict(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "-d", str(tmp_path / "site")], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    page = (tmp_path / "site" / "commands" / "index.html").read_text(encoding="utf-8")
    assert 'id="mnist-cli-config-validate"' in page and "--no-build" in page


# --- Python blocks -----------------------------------------------------------------------

def python_blocks(marker: str | None = None) -> list[Block]:
    return [b for p in DOCS for b in blocks(p)
            if b.lang == "python" and (marker is None or b.marker == marker)]


def test_python_blocks_compile() -> None:
    assert len(python_blocks()) >= 4
    for block in python_blocks():
        compile(block.text, block.where(), "exec")


def check_api_page(names: dict[str, Any], out: str) -> None:
    """The Python API page's block did what its comments say."""
    from mnist_cli.api import Comparison

    assert "McNemar" in out and "training.optimizer: unknown 'adamm'" in out
    result = names["result"]
    assert isinstance(result, Comparison) and len(result.table) == 2 and len(result.pairs) == 1
    saved = json.loads((result.compare_dir / "comparison.json").read_text())
    assert saved == json.loads(json.dumps(result.summary))  # the core's object, not a copy
    assert result.winner == result.table["name"][0]
    assert repr(result) == (f"Comparison('{result.compare_dir}', winner={result.winner!r}, "
                            "variants=2, seeds=1)")
    assert result.run("relu").metrics["status"] == "completed"
    assert {p.name.split("-")[0] for p in Path("runs").iterdir()} == {"mlp_relu", "compare"}


EXTRA_CHECKS = {"python-api.md": check_api_page}


@pytest.mark.slow
@pytest.mark.parametrize("block", python_blocks("test: run"), ids=Block.where)
def test_runnable_python_block_runs(block: Block, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    names: dict[str, Any] = {"__name__": "docs"}
    exec(compile(block.text, block.where(), "exec"), names)
    out = capsys.readouterr().out
    assert (tmp_path / "runs").is_dir()  # it trained, into the working directory
    EXTRA_CHECKS.get(block.path.name, lambda *_: None)(names, out)


def test_runnable_blocks_are_marked() -> None:
    marked = {b.path.name for b in python_blocks("test: run")}
    assert {"README.md", "python-api.md", "export.md"} <= marked


# --- documented outputs ------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
TIMING_ROW = re.compile(r"^[│|]\s*(train seconds|samples/s)\s*[│|]")


def numbers(line: str) -> tuple[str, list[tuple[str, bool]]]:
    """The line with numbers as `#` (whitespace collapsed), and each number with whether it
    is free to differ: a timing (seconds, samples/s) or a confidence half-width after `±`
    (with two seeds it scales any difference by t = 12.7)."""
    timing_row = bool(TIMING_ROW.match(line.strip()))
    found = [(m[0], timing_row or bool(re.match(r"\s*(s\b|samples/s)", line[m.end():]))
              or line[:m.start()].rstrip().endswith("±"))  # a 2-seed t-interval: x12.7
             for m in NUMBER.finditer(line)]
    return " ".join(NUMBER.sub("#", line).split()), found


def same_line(documented: str, real: str, checked: bool) -> bool:
    doc_text, doc_numbers = numbers(documented)
    real_text, real_numbers = numbers(real)
    if doc_text != real_text:
        return False
    tolerance = TOLERANCE if FIRST_EPOCH.search(documented) else LATER_TOLERANCE
    for (a, timing), (b, _) in zip(doc_numbers, real_numbers, strict=True):
        if not checked or timing:
            continue
        if "." in a and abs(float(a.replace(",", "")) - float(b.replace(",", ""))) > tolerance:
            return False
        if "." not in a and a != b:
            return False
    return True


def missing_lines(documented: list[str], real: list[str], checked: bool) -> list[str]:
    """Documented lines not found in order in the real output (`...` skips lines)."""
    missing, at = [], 0
    for line in (d for d in documented if d.strip() and d.strip() != "..."):
        hit = next((i for i in range(at, len(real)) if same_line(line, real[i], checked)), None)
        if hit is None:
            missing.append(line)
        else:
            at = hit + 1
    return missing


def output_blocks() -> list[Block]:
    return [b for p in DOCS for b in blocks(p) if b.marker.startswith("output:")]


@pytest.fixture(scope="module")
def run_documented(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`run(line)`: (exit code, stderr + stdout lines, step summary lines) of a documented
    `mnist-cli` line, run once in a fresh directory on a machine with no cached MNIST."""
    done: dict[str, tuple[int, list[str], list[str]]] = {}

    def run(line: str) -> tuple[int, list[str], list[str]]:
        if line not in done:
            where = tmp_path_factory.mktemp("documented")
            env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
            env.update(KERAS_HOME=str(where / "keras"), TFDS_DATA_DIR=str(where / "tfds"),
                       GITHUB_STEP_SUMMARY=str(where / "summary.md"))
            res = subprocess.run([sys.executable, "-m", "mnist_cli", *argv(line)], cwd=where,
                                 env=env, capture_output=True, text=True, timeout=280)
            summary = where / "summary.md"
            done[line] = (res.returncode, (res.stderr + res.stdout).splitlines(),
                          summary.read_text().splitlines() if summary.exists() else [])
        return done[line]

    return run


def slow_outputs() -> list[Any]:
    """The documented outputs, docs/ci.md's in the extended lane (~15 s of real runs)."""
    return [pytest.param(b, marks=pytest.mark.extended, id=Block.where(b))
            if b.where().startswith("docs/ci.md") else pytest.param(b, id=Block.where(b))
            for b in output_blocks()]


@pytest.mark.slow
@pytest.mark.parametrize("block", slow_outputs())
def test_documented_output_matches_a_real_run(block: Block, run_documented: Any) -> None:
    same_page = [b for b in blocks(block.path) if b.marker.startswith("output:")]
    command_block = next(b for b in reversed(same_page[:same_page.index(block) + 1])
                         if b.text.startswith("$ mnist-cli "))
    command, *documented = command_block.text.splitlines()
    code, real, summary = run_documented(command.removeprefix("$ "))
    if "step-summary" in block.marker:
        real, documented = summary, block.text.splitlines()
    expected = re.search(r"exit=(\d+)", command_block.marker)
    assert code == int(expected[1] if expected else 0), "\n".join(real[-20:])
    checked = "format" not in command_block.marker
    missing = missing_lines(documented, real, checked)
    assert not missing, "not in the real output:\n" + "\n".join(missing + ["---", *real])


def test_output_comparison_catches_stale_numbers() -> None:
    """The issue-20 case: the README's older numbers against this version's output."""
    now = ("epoch 1/10  loss 2.1594  acc 0.1632  val_loss 1.8511  val_acc 0.3472  0.6 s  "
           "2,306 samples/s")
    stale = ("epoch 1/10  loss 2.1701  acc 0.2096  val_loss 1.8429  val_acc 0.3681  9.1 s  "
             "142 samples/s")
    assert same_line(now, now.replace("0.6 s  2,306", "3.2 s  12,306"), checked=True)
    assert not same_line(stale, now, checked=True) and same_line(stale, now, checked=False)
    assert not same_line("epoch 1/10  loss 2.1594", "epoch 1/12  loss 2.1594", checked=True)
    later = "epoch 10/10  loss 0.1544  acc 0.9513"
    assert same_line(later, later.replace("0.9513", "0.9457"), checked=True)  # 2 flips
    assert not same_line(later, later.replace("0.1544", "0.2544"), checked=True)
    row = "| 2 | softmax | 0.6944 | 0.6681 ± 1.1118 | 0.6667 | completed |"
    assert same_line(row, row.replace("1.1118", "0.8121"), checked=True)
    assert missing_lines(["a 1", "...", "c 3"], ["a 1", "b 2", "c 3"], checked=True) == []
    assert missing_lines(["c 3", "a 1"], ["a 1", "b 2", "c 3"], checked=True) == ["a 1"]


def test_every_output_block_has_a_command() -> None:
    blocks_ = output_blocks()
    assert {b.path.name for b in blocks_} >= {"README.md", "getting-started.md", "ci.md"}
    for block in blocks_:
        if "step-summary" not in block.marker:
            assert block.text.startswith("$ mnist-cli "), block.where()
