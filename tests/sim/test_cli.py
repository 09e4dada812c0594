from aimass.sim.__main__ import main


def test_cli_simulates_and_lands(tmp_path, capsys):
    assert main(["--profile", "tiny", "--until", "2026-07-05", "--landing", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "simulated 5 days (2026-07-01..2026-07-05)" in out
    assert "events/s:" in out and "wrote 70 landing files" in out
    assert (tmp_path / "orders" / "2026-07-05" / "part-0000.csv").exists()
