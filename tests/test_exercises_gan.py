"""The GAN-level exercises: discriminator_gradient, minimax_gradient, train_step.

Each checker must accept minigan's own implementation and independently written correct
answers (written differently: np.where, np.logaddexp, log1p / tanh forms, one stacked D
pass), and reject every typical wrong answer in tests/exercise_answers_gan.py with a
Chinese hint naming that mistake.  Their notebooks must run headless unanswered.
"""

from __future__ import annotations

import json
from pathlib import Path

import exercise_answers_gan as answers  # tests/ is on sys.path (pytest's default import mode)
import numpy as np
import pytest
from conftest import require

from minigan import GAN, build_discriminator, build_generator
from minigan.exercises import EXERCISES, _kit, _train_step, check
from minigan.losses import discriminator_loss, generator_loss
from minigan.nn.module import backward
from minigan.optim import SGD, Adam
from minigan.selfcheck import discriminator_real_and_fake, generator_through_discriminator

NAMES = ("discriminator_gradient", "minimax_gradient", "train_step")
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "exercises"
GAN_NOTEBOOKS = [NOTEBOOKS / n for n in
                 ("05_discriminator_gradient.ipynb", "06_minimax_gradient.ipynb", "08_train_step.ipynb")]


def library_discriminator_gradient(D, x_real, x_fake):
    """Correct, from minigan: the self-check's two passes through D."""
    f, grads = discriminator_real_and_fake(D, x_real, x_fake)
    return f(), grads


def library_discriminator_gradient_stacked(D, x_real, x_fake):
    """Correct, from minigan: GAN.d_step's single pass over the stacked batch."""
    logits, cache = D.forward(np.concatenate([x_real, x_fake]))
    n = len(x_real)
    loss, d_real, d_fake = discriminator_loss(logits[:n], logits[n:])
    return loss, backward(D, np.concatenate([d_real, d_fake]), cache, need_dx=False)[1]


def library_minimax_gradient(G, D, z):
    return generator_through_discriminator(G, D, z, "minimax")[1]


def library_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    """Correct, from minigan: GAN.train_step with its noise replaced by the given batches."""
    gan = GAN(G, D, z_dim=z_g.shape[1], g_optimizer=opt_G, d_optimizer=opt_D, d_steps=len(z_d),
              real_label=real_label)
    queue = [*z_d, z_g]
    gan.sample_noise = lambda n: queue.pop(0)
    return gan.train_step(x_real).as_dict()


CORRECT = [
    ("discriminator_gradient", library_discriminator_gradient),
    ("discriminator_gradient", library_discriminator_gradient_stacked),
    ("discriminator_gradient", answers.my_discriminator_gradient),
    ("discriminator_gradient", answers.my_discriminator_gradient_logaddexp),
    ("discriminator_gradient", answers.my_discriminator_gradient_one_pass),
    ("minimax_gradient", library_minimax_gradient),
    ("minimax_gradient", answers.my_minimax_gradient),
    ("minimax_gradient", answers.my_minimax_gradient_logaddexp),
    ("minimax_gradient", answers.my_minimax_gradient_where),
    ("train_step", library_train_step),
    ("train_step", answers.my_train_step),
    ("train_step", answers.my_train_step_logaddexp),
]


def test_registered_in_order_after_generator_gradient():
    names = list(EXERCISES)
    i = names.index("generator_gradient")
    assert names[i + 1:i + 3] == ["discriminator_gradient", "minimax_gradient"]
    assert names.index("minimax_gradient") < names.index("train_step")
    for name in NAMES:
        assert EXERCISES[name] and "\n" not in EXERCISES[name]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in EXERCISES[name]), "descriptions are in Chinese"


@pytest.mark.parametrize("name, answer", CORRECT, ids=[f"{n}:{a.__name__}" for n, a in CORRECT])
def test_correct_answers_pass(name, answer):
    result = check(name, answer)
    assert result, str(result)
    assert not result.failed and not result.hints
    rows = " ".join(r.name for r in result.rows)
    for word in ("不变", "float32", "hypothesis", "饱和"):
        assert word in rows, (word, rows)


@pytest.mark.parametrize("wrong", answers.WRONG, ids=[w.id for w in answers.WRONG])
def test_wrong_answers_fail_with_a_hint_naming_the_mistake(wrong):
    result = check(wrong.exercise, wrong.answer)
    assert not result, str(result)
    hints = " ".join(result.hints)
    for phrase in wrong.words:
        assert phrase in hints, f"{phrase!r} not in the hints of\n{result}"


def test_at_least_five_wrong_answers_each():
    for name in NAMES:
        assert sum(w.exercise == name for w in answers.WRONG) >= 5, name


def test_the_brief_s_mistakes_are_covered():
    covered = {name: " ".join(" ".join(w.words) for w in answers.WRONG if w.exercise == name) for name in NAMES}
    expected = {
        "discriminator_gradient": ["生成样本的标签写成了 1", "NaN 或 inf", "同一个 cache", "漏了 1/N", "符号反了"],
        "minimax_gradient": ["非饱和", "NaN 或 inf", "符号反了", "跳过了判别器"],
        "train_step": ["生成器那一步用了判别器那一步的噪声", "梯度累加了", "D 的参数在生成器那一步被改动了",
                       "G 的参数在判别器那一步被改动了", "生成样本的标签写成了 1", "先更新了 G 再更新 D", "NaN 或 inf"],
    }
    for name, phrases in expected.items():
        for phrase in phrases:
            assert phrase in covered[name], (name, phrase)


def test_saturation_is_what_catches_the_probability_forms():
    """The answers through D's probability pass every check except those with a saturated D."""
    for name, answer in (("discriminator_gradient", answers.dg_chain_through_probability),
                         ("minimax_gradient", answers.mm_chain_through_probability),
                         ("train_step", answers.ts_naive_bce)):
        result = check(name, answer)
        failed = [r.name for r in result.failed]
        assert failed and all("饱和" in r or "hypothesis" in r for r in failed), (name, str(result))


@pytest.mark.parametrize("name, answer", [
    ("discriminator_gradient", answers.todo_discriminator_gradient),
    ("minimax_gradient", answers.todo_minimax_gradient),
    ("train_step", answers.todo_train_step),
])
def test_unfinished_answers_report_not_implemented(name, answer):
    result = check(name, answer)
    assert not result
    todo = getattr(_kit, "NOT_IMPLEMENTED", "not implemented yet")
    assert result.rows and all(r.detail == todo for r in result.rows), str(result)
    assert len(result.hints) == 1  # said once, not under every check
    assert "NotImplementedError" in result.hints[0]


@pytest.mark.parametrize("name", NAMES)
def test_check_never_raises_on_broken_answers(name):
    for answer in (None, 42, lambda *a, **k: 1 / 0, lambda *a, **k: (None, None), lambda *a, **k: {}):
        result = check(name, answer)
        assert not result and result.failed


def test_train_step_needs_the_real_label_keyword():
    def no_keyword(G, D, opt_G, opt_D, x_real, z_d, z_g):
        return answers.my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g)

    result = check("train_step", no_keyword)
    assert not result and any("real_label" in h for h in result.hints), str(result)


def test_checks_are_deterministic():
    for name, answer in (("discriminator_gradient", answers.dg_same_cache), ("train_step", answers.ts_g_first)):
        assert str(check(name, answer)) == str(check(name, answer))


# --------------------------------------------------------------------------------------
# The train_step checker's own machinery, against minigan and by hand.

def _state(seed, dtype=np.float64, opt="adam"):
    rng = np.random.default_rng(seed)
    G = build_generator(3, (4,), 2, dtype=dtype, rng=rng)
    D = build_discriminator(2, (5,), dtype=dtype, rng=rng)
    make = (lambda p: Adam(p, lr=1e-2)) if opt == "adam" else (lambda p: SGD(p, lr=0.1, momentum=0.5))
    x = rng.standard_normal((6, 2)).astype(dtype)
    z_d = [rng.standard_normal((6, 3)).astype(dtype) for _ in range(2)]
    z_g = rng.standard_normal((6, 3)).astype(dtype)
    return (G, D, make(G.params()), make(D.params())), x, z_d, z_g


def test_mistake_free_wrong_step_equals_gan_train_step():
    for opt in ("adam", "sgd"):
        a, x, z_d, z_g = _state(1, opt=opt)
        b, *_ = _state(1, opt=opt)
        out = _train_step.wrong_step()(*a, x, z_d, z_g, 0.9)
        ref = _train_step.reference_step(*b, x, z_d, z_g, 0.9)
        for k in _train_step.KEYS:
            assert out[k] == pytest.approx(ref[k], rel=1e-12)
        for m, n in ((a[0], b[0]), (a[1], b[1])):
            for k, p in m.params().items():
                np.testing.assert_allclose(p, n.params()[k], rtol=1e-12, atol=1e-15)


def test_reference_step_uses_the_given_noise():
    """A D step by hand (SGD, no momentum) equals the reference step's effect on D."""
    rng = np.random.default_rng(3)
    G = build_generator(2, (3,), 2, dtype=np.float64, rng=rng)
    D = build_discriminator(2, (3,), dtype=np.float64, rng=rng)
    x, z_d, z_g = rng.standard_normal((4, 2)), [rng.standard_normal((4, 2))], rng.standard_normal((4, 2))
    D0 = {k: p.copy() for k, p in D.params().items()}
    loss, grads = answers.my_discriminator_gradient(D, x, G(z_d[0]))
    stats = _train_step.reference_step(G, D, SGD(G.params(), lr=0.5), SGD(D.params(), lr=0.5), x, z_d, z_g)
    assert stats["d_loss"] == pytest.approx(loss, rel=1e-12)
    for k, p in D.params().items():
        np.testing.assert_allclose(p, D0[k] - 0.5 * grads[k], rtol=1e-12, atol=1e-15)


def test_minimax_gradient_vanishes_where_the_non_saturating_one_does_not():
    """What notebook 06 plots: as D rejects fakes (logits -> -inf), the minimax gradient -> 0."""
    logits = np.array([[-30.0], [-20.0]])
    assert np.all(np.abs(generator_loss(logits, "minimax")[1]) < 1e-8)
    assert np.all(np.abs(generator_loss(logits, "non_saturating")[1]) > 0.49)


# --------------------------------------------------------------------------------------
# Notebooks.

def _cells(path, tag=None):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if tag is None or tag in c.get("metadata", {}).get("tags", [])]


def _source(cell):
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


@pytest.mark.parametrize("path", GAN_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_unanswered(path):
    assert path.exists(), path
    answer, grade = _cells(path, "answer"), _cells(path, "grade")
    assert answer and grade
    for cell in answer:
        assert "raise NotImplementedError" in _source(cell) and "TODO" in _source(cell)
    name = {"05": "discriminator_gradient", "06": "minimax_gradient", "08": "train_step"}[path.name[:2]]
    assert any(f'check("{name}"' in _source(c) for c in grade)
    for cell in _cells(path):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error"
    todo = getattr(_kit, "NOT_IMPLEMENTED", "not implemented yet")
    assert any(todo in json.dumps(c.get("outputs", []), ensure_ascii=False) for c in grade), path.name


def test_minimax_notebook_shows_the_vanishing_gradient_plot():
    cells = _cells(NOTEBOOKS / "06_minimax_gradient.ipynb")
    images = [o for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the plot of the two gradients is in the committed notebook"


@pytest.mark.slow
@pytest.mark.parametrize("path", GAN_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_headless_without_errors(path):
    why = "notebook tests need: pip install -e '.[dev]'"
    nbformat, nbclient = require("nbformat", why), require("nbclient", why)
    require("ipykernel", why)
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    todo = getattr(_kit, "NOT_IMPLEMENTED", "not implemented yet")
    for cell in nb.cells:
        if "grade" in cell.metadata.get("tags", []):
            assert todo in json.dumps(cell.outputs, ensure_ascii=False)
