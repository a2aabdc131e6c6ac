"""dlcore.gradcheck: it passes correct backward passes, FAILS wrong ones, and its
report names the gradient and the worst entry."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore import gradcheck, nn, numerical_gradient, rel_error
from dlcore.gradcheck import _compare, check_function, random_input


class WrongWeightGrad(nn.Linear):
    """A Linear whose backward gets one weight entry wrong (a planted bug)."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.weight.grad[1, 2] *= 1.5
        return grad_in


class ForgetsBias(nn.Linear):
    def backward(self, grad_out):
        kept = self.bias.grad.copy()
        grad_in = super().backward(grad_out)
        self.bias.grad[...] = kept
        return grad_in


class ReLUWithoutMask(nn.ReLU):
    """The classic slip: passing the gradient straight through."""

    def backward(self, grad_out):
        self._saved()
        return grad_out


class TupleOutput(nn.Module):
    """Returns (output, state) as RNNs do; gradcheck checks the first."""

    def forward(self, x):
        self._cache = x
        return 2 * x, x.sum()

    def backward(self, grad_out):
        self._saved()
        return 2 * grad_out


def test_a_correct_layer_passes_and_the_report_lists_each_gradient(rng):
    result = gradcheck(nn.Linear(4, 3), rng.standard_normal((5, 4)))
    assert result.ok and bool(result) and result.max_error < 1e-7
    text = str(result)
    assert [line.split()[:2] for line in text.splitlines()[:3]] == [
        ["ok", "input"], ["ok", "weight"], ["ok", "bias"]]
    assert text.endswith("all gradients match (tolerance 1e-06)")


def test_a_wrong_weight_entry_fails_and_is_pointed_at(rng):
    result = gradcheck(WrongWeightGrad(4, 3), rng.standard_normal((5, 4)))
    assert not result.ok and not result
    weight = {c.name: c for c in result.comparisons}["weight"]
    assert weight.worst_index == (1, 2) and weight.error > 0.1
    assert weight.analytic == pytest.approx(1.5 * weight.numeric, rel=1e-6)
    text = str(result)
    assert "FAIL weight" in text and "worst at (1, 2)" in text
    assert "ok   input" in text and "ok   bias" in text
    assert text.endswith("some gradients do not match (tolerance 1e-06)")


def test_a_missing_bias_gradient_fails(rng):
    result = gradcheck(ForgetsBias(3, 2), rng.standard_normal((4, 3)))
    assert [c.name for c in result.comparisons if c.error >= result.tol] == ["bias"]


def test_a_wrong_input_gradient_fails(rng):
    result = gradcheck(ReLUWithoutMask(), rng.standard_normal((4, 3)) - 0.5)
    assert [c.name for c in result.comparisons if c.error >= result.tol] == ["input"]
    assert "FAIL input" in str(result)


def test_a_gradient_of_the_wrong_shape_is_named():
    class BadShape(nn.Linear):
        def backward(self, grad_out):
            super().backward(grad_out)
            return grad_out

    with pytest.raises(ValueError, match=r"the backward gradient for input has shape \(2, 3\), "
                                         r"expected \(2, 4\)"):
        gradcheck(BadShape(4, 3), np.ones((2, 4)))


def test_the_module_is_checked_in_float64(rng):
    layer = nn.Linear(3, 2)
    assert gradcheck(layer, rng.standard_normal((2, 3)).astype(np.float32)).ok
    assert layer.weight.dtype == np.float64


def test_losses_take_their_target_as_a_further_argument(rng):
    assert gradcheck(nn.MSELoss(), rng.standard_normal((3, 2)), rng.standard_normal((3, 2)))
    assert gradcheck(nn.CrossEntropyLoss(), rng.standard_normal((3, 4)), np.array([0, 3, 1]))


def test_tuple_outputs_check_the_first(rng):
    assert gradcheck(TupleOutput(), rng.standard_normal((2, 3))).ok


def test_params_false_checks_the_input_only(rng):
    result = gradcheck(nn.Linear(2, 2), rng.standard_normal((2, 2)), params=False)
    assert [c.name for c in result.comparisons] == ["input"]


def test_check_function_for_a_hand_written_gradient(rng):
    x = rng.standard_normal((3, 2))
    assert check_function(lambda v: np.sum(v**3), lambda v: 3 * v**2, x).ok
    wrong = check_function(lambda v: np.sum(v**3), lambda v: 2 * v**2, x, name="cube")
    assert not wrong.ok and str(wrong).startswith("FAIL cube")


def test_numerical_gradient_is_central_differences():
    x = np.array([0.3, -1.2, 2.0])
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_allclose(grad, np.cos(x), rtol=1e-9)
    np.testing.assert_array_equal(x, [0.3, -1.2, 2.0])      # x is put back


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"rel_error: shapes differ, \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))


def test_tiny_entries_do_not_raise_false_alarms_but_real_errors_do():
    """Entries far below the largest are judged on the largest's scale: rounding noise
    in a 1e-9 entry passes, a 20% error in a sizeable entry does not."""
    assert _compare("w", np.array([1.0, 1e-9]), np.array([1.0, 1.2e-9])).error < 1e-6
    bad = _compare("w", np.array([1.0, 0.5]), np.array([1.0, 0.6]))
    assert bad.error > 0.05 and bad.worst_index == (1,)


def test_random_input_is_seeded_float64():
    import dlcore

    dlcore.manual_seed(3)
    a = random_input(2, 3)
    dlcore.manual_seed(3)
    np.testing.assert_array_equal(a, random_input(2, 3))
    assert a.dtype == np.float64 and a.shape == (2, 3)
