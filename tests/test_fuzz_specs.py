"""Fuzz the scenario TOML and the config JSON loaders as the history loader is fuzzed
(issue 15, item 7): a small sample here, 5,000 files of each in ``bench.fuzz_loaders``."""

import pytest

from calibrate._fuzz import config_files, fuzz_configs, fuzz_scenarios, scenario_files


@pytest.mark.parametrize("seed", [11, 12])
def test_generated_scenarios_raise_only_spec_errors(tmp_path, seed):
    counts = fuzz_scenarios(tmp_path, 150, seed=seed)
    assert counts.findings == []
    assert counts.refused > 0 and counts.accepted > 0  # the generator makes both kinds
    assert counts.files == counts.refused + counts.accepted == 150


@pytest.mark.parametrize("seed", [11, 12])
def test_generated_configs_raise_only_recommendation_errors(tmp_path, seed):
    counts = fuzz_configs(tmp_path, 150, seed=seed)
    assert counts.findings == []
    assert counts.refused > 0 and counts.accepted > 0
    assert counts.files == counts.refused + counts.accepted == 150


def test_the_generator_is_seeded_and_varied():
    assert scenario_files(20, seed=3) == scenario_files(20, seed=3)
    assert config_files(20, seed=3) != config_files(20, seed=4)
    assert len(set(scenario_files(50, seed=5))) > 45
