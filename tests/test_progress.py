import io

from graphc.progress import Progress


def test_progress_reports_count_and_metrics():
    out = io.StringIO()
    bar = Progress(range(5), "train", stream=out)
    for i in bar:
        bar.set(loss=1.0 / (i + 1))
    text = out.getvalue()
    assert text.count("\n") == 1
    assert "train: [########################] 5/5" in text and "loss=0.2" in text


def test_live_bar_redraws_in_place():
    out = io.StringIO()
    for _ in Progress(iter(range(3)), stream=out, force=True):
        pass
    assert out.getvalue().startswith("\r") and out.getvalue().endswith("\n")
