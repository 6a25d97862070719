"""Regenerate the README's pictures: python make_readme_images.py OUT_DIR (from the repo's venv)."""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import calibrate  # noqa: E402
import simulate  # noqa: E402
from calibrate.explorer import draw  # noqa: E402
from calibrate.threshold import recommend  # noqa: E402
from simulate import plotting as splot  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
out.mkdir(parents=True, exist_ok=True)
world = simulate.Scenario()
result = simulate.run(world, seed=1)

fig, ax = plt.subplots(figsize=(8, 3.6), dpi=90)
splot.plot_response_times(result, ax=ax)
fig.tight_layout()
fig.savefig(out / "response_times.png")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", calibrate.SelectionBiasWarning)
    capacity = calibrate.SalesCapacity.from_scenario(world)
    rec = recommend(calibrate.load_history(result), capacity, current_rules=world.rules, seed=1)
fig = draw(rec)
fig.savefig(out / "explorer.png")
print(rec.summary())
