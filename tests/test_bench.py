"""The bench's pure logic (relaxbook/tools/bench.py): medians, target ratios, the table, and the stock
configuration it compares against. The bench itself is run by `make bench`, not by the tests."""

from __future__ import annotations

import yaml

from conftest import ROOT
from relaxbook.tools import bench


def test_summary_is_the_median_of_the_runs():
    assert bench.summarise([9.0, 1.0, 2.0]) == {"wall_s": 2.0, "min_s": 1.0, "max_s": 9.0}


def test_targets_are_ratios_within_one_run():
    r = {
        k: bench.summarise([v])
        for k, v in {"stock_cold": 20.0, "cold": 9.0, "csv": 6.5, "noop": 3.0, "floor": 2.5, "stock_csv": 2.0}.items()
    }
    got = {t["target"]: (t["value"], t["pass"]) for t in bench.evaluate(r)}
    assert got == {
        "cold <= 0.5x stock cold": (0.45, True),
        "studies.csv edit <= 0.3x stock cold": (0.33, False),
        "warm no-op <= 1.5x Sphinx floor": (1.2, True),
    }
    text = bench.table(r, bench.evaluate(r), {"csv": 0, "stock_csv": 5, "showing": 5})
    assert "| studies.csv edit <= 0.3x stock cold | 0.33 | 0.3 | FAIL |" in text
    assert "this build 0, stock JB1 5 (of 5 that show it)" in text


def test_missing_scenarios_are_skipped_not_guessed():
    assert bench.evaluate({"cold": bench.summarise([1.0])}) == []


def test_the_stock_build_is_the_book_without_its_execution_layer(tmp_path):
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    ours = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["extra_extensions"]
    stock = yaml.safe_load(bench.stock_config(tmp_path).read_text())["sphinx"]["extra_extensions"]
    assert ours[0] == "relaxbook.ext"  # the other extensions (e.g. sphinxext.opengraph) stay in both builds
    assert stock == bench.STOCK_EXTENSIONS + ours[1:] and "relaxbook.ext.cache" not in stock
    floor = yaml.safe_load(bench.floor_config(tmp_path).read_text())
    assert floor["execute"]["execute_notebooks"] == "off"
