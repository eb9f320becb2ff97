"""Features and the model: deterministic features, save → load identity, OOD flags, CLI output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, need_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from irtoolkit.costmodel import features as F
from irtoolkit.costmodel.dataset.build import build
from irtoolkit.costmodel.evaluation import load_dataset, split_by_origin
from irtoolkit.costmodel.model import CostModel, ModelFormatError
from irtools.errors import IrtoolsError, ParseError

LOOP_IR = """
define i64 @sum(ptr %a) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %s = phi i64 [ 0, %entry ], [ %s.next, %loop ]
  %p = getelementptr i64, ptr %a, i64 %i
  %v = load i64, ptr %p
  %s.next = add i64 %s, %v
  %i.next = add nuw nsw i64 %i, 1
  %c = icmp eq i64 %i.next, 1000
  br i1 %c, label %exit, label %loop
exit:
  ret i64 %s.next
}
"""


def test_loop_features():
    f = F.module_features(LOOP_IR)["sum"]
    # the project's analyses (irtools.analysis.features) and the cost model's own view of the same parse
    assert f["ir.cfg.loops"] == 1 and f["ir.fp.MaxLoopDepth"] == 1 and f["x.max_trip"] == 1000
    assert f["ir.fn.phis"] == 2 and f["ir.op.load"] == 1 and f["x.loads_in_loops"] == 1
    # the 8 instructions of the loop block run 1000 times, plus the 2 outside it
    assert abs(f["x.log_est_dyn_insts"] - np.log1p(8 * 1000 + 2)) < 1e-9
    assert set(f) == {n for n in F.FEATURE_NAMES if not n.startswith("mlir.")}


def test_mlir_functions_get_mlir_features_and_parse_errors_have_positions(tmp_path):
    src = tmp_path / "k.mlir"
    src.write_text("func.func @add(%a: memref<16xf32>, %b: memref<16xf32>) {\n"
                   "  affine.for %i = 0 to 16 {\n"
                   "    %x = affine.load %a[%i] : memref<16xf32>\n"
                   "    affine.store %x, %b[%i] : memref<16xf32>\n  }\n  return\n}\n")
    kind, feats = F.featurize(src)
    assert kind == "mlir" and feats["add"]["mlir.loop_trip_product"] == 16
    bad = tmp_path / "bad.ll"
    bad.write_text("define i32 @f() {\nentry:\n  %x = add i32 1,\n  ret i32 %x\n}\n")
    with pytest.raises(ParseError) as e:
        F.module_features(bad)
    assert e.value.path == str(bad) and e.value.line == 4


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from("abcdefghxyz"), min_size=1, max_size=6).map("".join))
def test_features_ignore_value_names(suffix):
    renamed = re.sub(r"%(i\.next|s\.next|i|s|p|v|c)(?![\w.])", lambda m: f"%{m.group(1)}_{suffix}", LOOP_IR)
    assert renamed != LOOP_IR
    assert F.module_features(renamed) == F.module_features(LOOP_IR)


def test_features_deterministic_across_processes():
    code = ("import json,sys; from irtoolkit.costmodel import features as F; "
            "print(json.dumps(F.module_features(sys.stdin.read()), sort_keys=True))")
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], input=LOOP_IR, capture_output=True, text=True,
                                env=env, cwd=ROOT, check=True).stdout)
    assert len(outs) == 1


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    for t in ("clang-22", "llc-22", "llvm-nm-22"):
        need_tool(t)
    out = tmp_path_factory.mktemp("ds")
    build(out, shards=6, per_shard=1, configs_per_program=2, dynamic=False, progress=False)
    rows, feats = load_dataset(out)
    model = CostModel(n_estimators=30, n_estimators_quantile=10).fit(feats, [r["labels"] for r in rows])
    return out, rows, feats, model


def test_save_load_identical_predictions(tiny, tmp_path):
    out, rows, feats, model = tiny
    text = (out / rows[0]["ir_file"]).read_text()
    before = [p.to_json() for p in model.predict(text)]
    model.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    again = CostModel.load(tmp_path / "m")
    assert [p.to_json() for p in again.predict(text)] == before
    X = F.to_matrix(feats, model.feature_names_)
    for t in model.target_names:
        for a, b in zip(model.predict_matrix(X, t), again.predict_matrix(X, t), strict=True):
            assert np.array_equal(a, b)
    # a subset of targets: only those boosters, with the same predictions
    t = model.target_names[0]
    one = CostModel.load(tmp_path / "m", targets=[t])
    assert one.target_names == [t]
    for a, b in zip(model.predict_matrix(X, t), one.predict_matrix(X, t), strict=True):
        assert np.array_equal(a, b)
    with pytest.raises(ModelFormatError, match="no target nonsense"):
        CostModel.load(tmp_path / "m", targets=["nonsense"])


def test_prediction_shape_and_intervals(tiny):
    out, rows, feats, model = tiny
    preds = model.predict(Path(out, rows[0]["ir_file"]))
    assert {p.function for p in preds} >= {r["function"] for r in rows if r["ir_file"] == rows[0]["ir_file"]}
    for p in preds:
        for v in p.values.values():
            assert v.value is None or (v.lo <= v.value <= v.hi and v.value >= 0)

    # the verdict is the interval width against the widest tenth of the training functions' intervals:
    # on the training rows about a tenth (per width target) is flagged, never most of them
    X = F.to_matrix(feats, model.feature_names_)
    score, reasons = model.ood(X)
    flagged = score > model.ood_threshold
    assert 0 < flagged.mean() <= 0.3
    assert all(any("interval is" in r or "std from" in r for r in reasons[i]) for i in np.flatnonzero(flagged))


def test_gated_count_is_zero_or_at_least_one_and_follows_its_classifier(tiny, tmp_path):
    """spills: a classifier says zero or not; where it says not, the count is at least one."""
    out, rows, feats, model = tiny
    X = F.to_matrix(feats, model.feature_names_)
    y = np.array([r["labels"].get("spills", np.nan) for r in rows], dtype=float)
    assert 0 < (y > 0).sum() < np.isfinite(y).sum(), "the tiny dataset needs functions with and without spills"
    bs = model.boosters_["spills"]
    assert "gate" in bs and "gate" not in model.boosters_["machine_instructions"]
    p, lo, hi = model.predict_matrix(X, "spills")
    says = np.asarray(bs["gate"].predict(X, raw_score=True)) > 0
    assert np.all(p[~says] == 0) and np.all(p[says] >= 1) and np.all((lo <= p) & (p <= hi))
    # it is the classifier that answers zero-or-not on its own training rows, mostly right
    ok = np.isfinite(y)
    assert np.mean(says[ok] == (y[ok] > 0)) > 0.8
    model.save(tmp_path / "m")
    assert "gate" in CostModel.load(tmp_path / "m").boosters_["spills"]


def test_ood_flag_on_absurd_input(tiny):
    *_, model = tiny
    body = "\n".join(f"  %x{i} = fmul <64 x double> %x{i - 1}, %x{i - 1}" for i in range(1, 3000))
    absurd = f"define <64 x double> @huge(<64 x double> %x0) {{\nentry:\n{body}\n  ret <64 x double> %x2999\n}}\n"
    (p,) = model.predict(absurd)
    assert p.ood and p.ood_reasons
    assert all(v.value is None or np.isfinite(v.value) for v in p.values.values())
    named = [r.split("=")[0] for r in p.ood_reasons if "=" in r]
    assert len(named) == len(set(named)), p.ood_reasons     # a feature is named once, however far out


def test_predictions_stay_within_ten_times_the_largest_label(tiny):
    """An unbounded estimate feature (a nest of 1e6-trip loops) cannot take a prediction past
    CAP_FACTOR x the largest training label."""
    *_, model = tiny
    nest = LOOP_IR.replace("1000", "1000000000000")
    for t in model.boosters_:
        cap = model.prediction_cap(t)
        if cap is None:
            continue
        X = F.to_matrix([F.module_features(nest)["sum"]], model.feature_names_) * 1e6
        p, lo, hi = model.predict_matrix(X, t)
        assert p[0] <= cap and hi[0] <= cap and lo[0] <= p[0]
    assert model.prediction_cap("machine_instructions") == 10 * model.target_info_["machine_instructions"]["label_max"]


def test_update_moves_predictions(tiny):
    out, rows, feats, model = tiny
    m2 = CostModel(n_estimators=30, n_estimators_quantile=10).fit(feats, [r["labels"] for r in rows])
    X = F.to_matrix(feats[:5], m2.feature_names_)
    before = m2.predict_matrix(X, "machine_instructions")[0]
    doubled = [{k: v * 2 for k, v in r["labels"].items()} for r in rows]
    m2.update(feats, doubled, rounds=20)
    assert np.all(m2.predict_matrix(X, "machine_instructions")[0] > before)


def test_split_keeps_programs_whole(tiny):
    _, rows, _, _ = tiny
    test = split_by_origin(rows, test_fraction=0.5)
    sides: dict[str, set] = {}
    for r, t in zip(rows, test, strict=True):
        sides.setdefault(r["origin"], set()).add(bool(t))
    assert all(len(s) == 1 for s in sides.values())


def test_cli_cost_json_on_real_file(tmp_path):
    clang = need_tool("clang-22")
    from irtoolkit import costmodel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    src = tmp_path / "k.c"
    src.write_text("double dot(double *a, double *b) { double s = 0; for (int i = 0; i < 512; i++) "
                   "s += a[i] * b[i]; return s; }\nint id(int x) { return x; }\n")
    ll = tmp_path / "k.ll"
    subprocess.run([clang, "-O2", "-S", "-emit-llvm", str(src), "-o", str(ll)], check=True)
    proc = subprocess.run([sys.executable, "-m", "irtools", "cost", "--json", str(ll)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    objs = [json.loads(line) for line in proc.stdout.splitlines()]   # JSON lines: one object per function
    assert {o["function"] for o in objs} == {"dot", "id"}
    manifest = json.loads((costmodel.DEFAULT_MODEL / "manifest.json").read_text())
    for o in objs:
        for t in manifest["targets"]:
            assert set(o[t]) == {"value", "lo", "hi", "unit"}
            if t.startswith("gpu_"):   # x86 functions: the GPU targets do not apply
                assert o[t]["value"] is o[t]["lo"] is o[t]["hi"] is None, (t, o[t])
            elif o[t]["value"] is not None:   # rounded: no 1.27e-17 bytes
                digits = 4 if o[t]["unit"] == "fraction" else 2
                assert all(round(o[t][k], digits) == o[t][k] for k in ("value", "lo", "hi"))
        assert isinstance(o["out_of_distribution"], bool)
    bad = subprocess.run([sys.executable, "-m", "irtools", "cost", str(tmp_path / "missing.ll")],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and bad.stderr == f"{tmp_path / 'missing.ll'}: error: no such file\n"


def test_cli_cost_on_mlir_uses_the_mlir_model_and_parse_errors_have_positions(tmp_path):
    from irtoolkit import costmodel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    src = tmp_path / "k.mlir"
    src.write_text("func.func @scale(%a: memref<64xf32>, %s: f32) {\n"
                   "  affine.for %i = 0 to 64 {\n"
                   "    %x = affine.load %a[%i] : memref<64xf32>\n"
                   "    %y = arith.mulf %x, %s : f32\n"
                   "    affine.store %y, %a[%i] : memref<64xf32>\n  }\n  return\n}\n")
    proc = subprocess.run([sys.executable, "-m", "irtools", "cost", "--json", str(src)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (o,) = map(json.loads, proc.stdout.splitlines())
    # MLIR goes to the MLIR model (costmodel/models/default/mlir, trained on linalg/affine/scf
    # functions under lowering pipelines): an affine loop is priced, with its interval, in distribution
    assert o["function"] == "scale" and o["out_of_distribution"] is False
    assert o["machine_instructions"]["lo"] <= o["machine_instructions"]["value"] <= o["machine_instructions"]["hi"]
    bad = tmp_path / "bad.ll"
    bad.write_text("define i32 @f() {\nentry:\n  %x = add i32 1,\n  ret i32 %x\n}\n")
    proc = subprocess.run([sys.executable, "-m", "irtools", "cost", str(bad)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 1 and proc.stderr.startswith(f"{bad}:4:") and proc.stderr.count("error:") == 1


def test_loop_target_is_absent_for_loop_free_functions(tmp_path):
    from irtoolkit import costmodel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    m = costmodel.load()
    if "mca_inner_loop_rthroughput" not in m.target_names:
        pytest.skip("the shipped model predates the loop target")
    preds = {p.function: p.values["mca_inner_loop_rthroughput"] for p in m.predict(LOOP_IR + """
define i32 @flat(i32 %x) {
  %y = add i32 %x, 1
  ret i32 %y
}
""")}
    assert preds["flat"].value is None and preds["flat"].to_json()["value"] is None
    assert preds["sum"].value is not None and preds["sum"].value > 0


def test_cli_cost_on_a_module_without_definitions_says_so_and_succeeds(tmp_path):
    from irtoolkit import costmodel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    decls = tmp_path / "decls.ll"
    decls.write_text("@g = global i32 0\ndeclare i32 @puts(ptr)\n")
    proc = subprocess.run([sys.executable, "-m", "irtools", "cost", "--json", str(decls)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert "no function definitions" in proc.stderr
    assert costmodel.load().predict(decls) == []


def test_mlir_function_like_ops_beyond_func_are_units():
    """Any symbol with a body of its own is priced (CIRCT's hw.module, gpu.func inside gpu.module);
    containers are not; a file of bare top-level ops is one unit."""
    kind, feats = F.featurize("hw.module @top(in %a: i8, out b: i8) {\n  hw.output %a : i8\n}\n", path="x.mlir")
    assert kind == "mlir" and list(feats) == ["top"]
    nested = "module {\n gpu.module @k {\n  gpu.func @kern() kernel {\n   gpu.return\n  }\n }\n func.func @h() {\n  return\n }\n}\n"
    assert list(F.module_features(nested, path="y.mlir")) == ["kern", "h"]
    assert list(F.module_features('%0 = "test.op"() : () -> i32\n', path="z.mlir")) == ["<module>"]
    assert F.module_features("module {\n}\n", path="e.mlir") == {}


def test_row_weights_decide_between_conflicting_groups():
    """Two groups of rows with the same features and labels 100x apart: the group with the weight wins,
    in the offset line and in the trees alike; without weights the model lands between them."""
    rng = np.random.default_rng(0)
    feats, labels, group = [], [], []
    for i in range(200):
        size = float(rng.integers(10, 1000))
        feats.append({"ir.fp.TotalInstructionCount": size, "x.values": size * 2 + float(i % 3)})
        g = i % 2
        labels.append({"machine_instructions": size * (100.0 if g else 1.0)})
        group.append(g)
    names = ["ir.fp.TotalInstructionCount", "x.values"]
    probe = [{"ir.fp.TotalInstructionCount": 500.0, "x.values": 1000.0}]

    def predict(weights):
        m = CostModel(targets=["machine_instructions"], n_estimators=60, random_state=0)
        m.fit(feats, labels, feature_names=names, weights=weights)
        return m.predict_matrix(F.to_matrix(probe, names), "machine_instructions")[0][0]

    heavy_small = predict([0.02 if g else 1.0 for g in group])
    heavy_large = predict([1.0 if g else 0.02 for g in group])
    even = predict(None)
    assert heavy_small < even < heavy_large
    assert heavy_large / heavy_small > 20
    with pytest.raises(Exception, match="positive weight"):
        predict([0.0] * len(feats))


def test_validate_fits_and_scores_disjoint_programs(tiny, monkeypatch, capsys):
    import argparse

    from irtoolkit.costmodel import train_default

    _, rows, feats, _ = tiny
    # six programs are too few for a 20% draw: repeat each under new names so both sides get some
    many = [dict(r, origin=f"{r['origin']}#{k}") for k in range(4) for r in rows]
    fitted = {}

    def small_fit(fit_rows, fit_feats, args, summary=None):
        fitted["origins"] = {r["origin"] for r in fit_rows}
        return CostModel(n_estimators=20, n_estimators_quantile=5, random_state=args.seed).fit(
            fit_feats, [r["labels"] for r in fit_rows])

    monkeypatch.setattr(train_default, "_fit", small_fit)
    args = argparse.Namespace(seed=0, tvm_cpu_weight=0.25)
    assert train_default._validate(many, feats * 4, args) == 0
    out = capsys.readouterr().out
    val = split_by_origin(many, salt="irtools-validation")
    val_origins = {r["origin"] for r, v in zip(many, val, strict=True) if v}
    assert val_origins and fitted["origins"] and not (val_origins & fitted["origins"])
    assert fitted["origins"] | val_origins == {r["origin"] for r in many}
    assert f"validation: {len(val_origins)} of the {len({r['origin'] for r in many})} training programs" in out
    assert "generated C: machine_instructions" in out


def test_fresh_seed_evaluation_leaves_out_training_programs(capsys):
    """A TVM workload recurs across seeds: the unseen-program figures must not count its rows."""
    from irtoolkit import costmodel
    from irtoolkit.costmodel.evaluation import unseen_rows

    model = costmodel.load()
    seen = model.summary_["train_origins"]
    assert len(seen) > 500 and not set(seen) & set(model.summary_["test_origins"])
    rows = [{"origin": seen[0]}, {"origin": "tvm_never_seen_workload"}, {"origin": seen[-1]}]
    kept, kept_feats, dropped = unseen_rows(rows, [{"a": 1.0}, {"a": 2.0}, {"a": 3.0}], model)
    assert (kept, kept_feats, dropped) == ([rows[1]], [{"a": 2.0}], 2)
    del model.summary_["train_origins"]           # a model trained before they were recorded: said so
    assert unseen_rows(rows, [{}] * 3, model)[2] == 0
    assert "does not list its training programs" in capsys.readouterr().err


def test_estimator_conveniences_fit_X_y_and_lookup_by_name():
    """fit(X, y) as scikit-learn's estimators."""
    rng = np.random.default_rng(0)
    names = ["ir.a", "ir.b"]
    X = rng.random((60, 2))
    y = 3 * X[:, 0] + 1
    m = CostModel(targets=["spills"], n_estimators=20, n_estimators_quantile=10).fit(X, y, feature_names=names)
    assert m.feature_names_ == names and "spills" in m.boosters_
    p, lo, hi = m.predict_matrix(X[:5], "spills")
    assert p.shape == (5,) and np.all(lo <= hi)
    m2 = CostModel(targets=["spills"], n_estimators=20, n_estimators_quantile=10).fit(
        X, {"spills": y}, feature_names=names)
    assert np.allclose(m2.predict_matrix(X[:5], "spills")[0], p)
    with pytest.raises(IrtoolsError, match="one target"):
        CostModel().fit(X, y, feature_names=names)
    with pytest.raises(IrtoolsError, match="one column per feature name"):
        CostModel(targets=["spills"]).fit(X, y)
    assert len(F.FEATURE_NAMES) > 2


def test_predict_function_by_name():
    from irtoolkit import costmodel

    if not (costmodel.DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("the default model is not built")
    m = costmodel.load()
    v = m.predict_function(LOOP_IR, "sum", "machine_instructions")
    assert isinstance(v, float) and v > 0
    assert m.predict_function(LOOP_IR, "sum").function == "sum"
    with pytest.raises(KeyError, match="there are: sum"):
        m.predict_function(LOOP_IR, "nope")


def test_target_params_set_one_targets_loss_and_survive_save(tmp_path):
    """A per-target objective reaches that target's point booster only, and a saved model keeps it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 50, size=(200, 3))
    labels = [{"machine_instructions": 3 * a + b, "text_bytes": 4 * a + c} for a, b, c in X]
    tp = {"text_bytes": {"objective": "huber", "alpha": 0.1, "n_estimators": 20}}
    m = CostModel(n_estimators=20, target_params=tp).fit(X, labels, feature_names=["a", "b", "c"])
    assert m.boosters_["text_bytes"]["point"].params["objective"] == "huber"
    assert m.boosters_["text_bytes"]["point"].params["alpha"] == 0.1
    assert m.boosters_["machine_instructions"]["point"].params["objective"] == "regression"
    back = CostModel.load(m.save(tmp_path / "m"))
    assert back.target_params == tp
    np.testing.assert_allclose(back.predict_matrix(X, "text_bytes")[0], m.predict_matrix(X, "text_bytes")[0])


def test_target_params_leaf_size_reaches_the_point_booster_only():
    """A larger leaf size for one target's point booster fits (its interval boosters share the Dataset
    at the default leaf size, which LightGBM refuses when the Dataset pre-filtered features) and stays
    that booster's."""
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 50, size=(300, 3))
    labels = [{"machine_instructions": 3 * a + b} for a, b, _ in X]
    tp = {"machine_instructions": {"min_child_samples": 40, "feature_fraction": 0.5, "lambda_l2": 1.0,
                                   "n_estimators": 20}}
    m = CostModel(n_estimators=20, target_params=tp).fit(X, labels, feature_names=["a", "b", "c"])
    bs = m.boosters_["machine_instructions"]
    assert bs["point"].params["min_data_in_leaf"] == 40
    assert bs["point"].params["feature_fraction"] == 0.5 and bs["point"].params["lambda_l2"] == 1.0
    assert bs["lo"].params["min_data_in_leaf"] == m.min_child_samples
    assert np.isfinite(m.predict_matrix(X, "machine_instructions")[0]).all()
