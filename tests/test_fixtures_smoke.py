from pipeline.run import Run


def test_fixture_runs_load(image_run, toy2d_run, toy1d_run):
    img, toy, one = Run.load(image_run), Run.load(toy2d_run), Run.load(toy1d_run)
    assert img.kind == "image" and toy.kind == "toy2d" and one.kind == "toy1d"
    assert img.snapshot("end").fake.shape == (16, 28, 28, 1)
    assert toy.snapshot("end")["field"].shape == (32, 32)
    assert len(img.metrics["step"]) == 40
