"""`bessemer ball train`: throws rendered, a predictor trained and written whole, judged on held-out throws."""

import numpy as np

from bessemer.cli import main
from perception.ball_predictor import BallPredictor
from perception.training.ball import TRAIN_FIRST_SEED


def test_a_small_training_run_writes_a_predictor_that_loads_and_reports_the_held_out_table(tmp_path, capsys):
    out = tmp_path / "ball.pt"
    assert main(["ball", "train", "--tracks", "2", "--epochs", "1", "--eval-tracks", "1", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "constant-velocity Kalman" in printed and "rest point" in printed
    predictor = BallPredictor.load(out)
    assert predictor.trained == {"first_seed": TRAIN_FIRST_SEED, "tracks": 2, "epochs": 1,
                                 "frames": predictor.trained["frames"]} and predictor.trained["frames"] > 10
    assert np.isfinite(predictor.predict(np.zeros((1, predictor.config.window, 2)))).all()
    assert [p.name for p in tmp_path.iterdir()] == ["ball.pt"], "nothing partial left beside it"


def test_training_throws_that_would_reach_the_held_out_seeds_are_refused_before_any_rendering(tmp_path, capsys):
    assert main(["ball", "train", "--tracks", "40001", "--out", str(tmp_path / "ball.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "held-out seeds" in err[0] and "--tracks" in err[0]
    assert not any(tmp_path.iterdir())


def test_the_plot_draws_held_out_throws_seen_rolling_into_a_png(tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "forecasts.png"
    assert main(["ball", "plot", "--throws", "3", "--out", str(out), "--quiet"]) == 0
    drawn = int(capsys.readouterr().out.split(": ")[1].split(" of ")[0])
    assert drawn >= 1
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1000, 900)
    assert [p.name for p in tmp_path.iterdir()] == ["forecasts.png"]
