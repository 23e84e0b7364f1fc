"""``bench/run_all.py`` (issue 14, point 6): a fake benchmark's figures make the Markdown
report, the SVG plots and the README block; a missing script is skipped with a note."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from bench import figures, run_all

FAKE = """
import sys
sys.path.insert(0, {repo!r})
from bench.figures import write_json

write_json(
    "fake",
    "ratio >= 0.5",
    "--quick" in sys.argv or True,
    {{"ratio": 0.75, "sends/s": 120.5, "note": "text figure"}},
    {{
        "report time (ms) by size": {{
            "status report": [[10000, 12.0], [100000, 40.5], [1000000, 210.0]],
            "message log": [[10000, 8.0], [100000, 9.5], [1000000, 11.0]],
        }},
        "latency percentiles (ms)": {{"small shop": [[50, 120], [95, 480], [100, 900]]}},
    }},
)
print("fake ran with", sys.argv[1:])
"""


def test_it_writes_the_report_plots_and_readme_block(tmp_path, capsys):
    script = tmp_path / "fake.py"
    script.write_text(FAKE.format(repo=run_all.REPO))
    crash = tmp_path / "crash.py"
    crash.write_text("raise SystemExit('broken on purpose')\n")
    readme = tmp_path / "README.md"
    readme.write_text("# X\n\n## Benchmarks\n<!-- bench:start -->\nold\n<!-- bench:end -->\nend\n")
    out = tmp_path / "results"
    code = run_all.main(
        [
            "--quick",
            "--only",
            "fake,crash,gone",
            "--script",
            f"fake={script}",
            "--script",
            f"crash={crash}",
            "--script",
            f"gone={tmp_path / 'gone.py'}",
            "--out",
            str(out),
            "--readme",
            str(readme),
        ]
    )
    assert code == 0
    assert "fake ran with" in capsys.readouterr().out
    latest = (out / "latest.md").read_text()
    assert "## Machine" in latest and "| cores |" in latest and "| Python |" in latest
    assert "| fake | ratio: 0.75 | ratio >= 0.5 | yes |" in latest
    assert "| crash |" in latest and "**failed**" in latest and "broken on purpose" in latest
    assert "| gone |" in latest and "skipped" in latest and "is not there" in latest
    assert "| sends/s | 120.5 |" in latest
    svgs = sorted(p.name for p in out.glob("*.svg"))
    assert svgs == [
        "fake-latency-percentiles-ms.svg",
        "fake-report-time-ms-by-size.svg",
        "throughput.svg",
    ]
    for name in svgs:
        root = ET.parse(out / name).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert f"]({name})" in latest
    lines = ET.parse(out / "fake-report-time-ms-by-size.svg").getroot()
    assert len(lines.findall("{http://www.w3.org/2000/svg}polyline")) == 2
    text = readme.read_text()
    assert text.startswith("# X\n\n## Benchmarks\n<!-- bench:start -->\nLatest run (")
    assert "old" not in text and text.endswith("<!-- bench:end -->\nend\n")
    assert "| fake | ratio: 0.75 | ratio >= 0.5 | yes |" in text
    assert json.loads((out / "fake.json").read_text())["figures"]["ratio"] == 0.75


def test_merge_keeps_the_last_result_of_a_benchmark_not_run_again(tmp_path):
    script = tmp_path / "fake.py"
    script.write_text(FAKE.format(repo=run_all.REPO))
    other = tmp_path / "other.py"
    other.write_text(FAKE.format(repo=run_all.REPO).replace("0.75", "0.25"))
    readme = tmp_path / "README.md"
    readme.write_text("<!-- bench:start -->\n<!-- bench:end -->\n")
    out = tmp_path / "results"
    common = ["--quick", "--script", f"fake={script}", "--script", f"other={other}"]
    common += ["--out", str(out), "--readme", str(readme)]
    assert run_all.main([*common, "--only", "fake,other"]) == 0
    kept = json.loads((out / "fake.json").read_text())
    ran, cpu = kept["ran"], kept["cpu"]
    assert cpu == run_all.machine()["CPU"]
    other.write_text(FAKE.format(repo=run_all.REPO).replace("0.75", "0.5"))
    assert run_all.main([*common, "--only", "other", "--merge"]) == 0
    latest = (out / "latest.md").read_text()
    assert "| other | ratio: 0.5 |" in latest  # run again
    assert "| fake | ratio: 0.75 |" in latest and f"from an earlier run ({ran}, {cpu})" in latest
    assert "| fake | ratio: 0.75 |" in readme.read_text()
    assert run_all.main([*common, "--only", "other"]) == 0  # without --merge: this run only
    assert "| fake |" not in (out / "latest.md").read_text()
    assert run_all.main([*common, "--rewrite"]) == 0  # runs nothing, shows both
    latest = (out / "latest.md").read_text()
    assert "| fake | ratio: 0.75 |" in latest and "| other | ratio: 0.5 |" in latest
    assert "rewritten" in latest


def test_write_json_writes_only_with_the_option(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    monkeypatch.setattr("sys.argv", ["x.py"])
    figures.write_json("n", "g", True, {"a": 1.234567})
    assert not path.exists()
    monkeypatch.setattr("sys.argv", ["x.py", "--json", str(path)])
    figures.write_json("n", "g", False, {"a": 1.234567})
    assert json.loads(path.read_text()) == {
        "name": "n",
        "goal": "g",
        "met": False,
        "figures": {"a": 1.2346},
        "series": {},
    }


def test_the_goals_table_shows_the_figures_the_runner_names():
    from bench import report

    result = {"figures": {"messages": 600, "CPU ms per message": 12.345, "trips": 15}}
    assert report.headline(result) == "messages: 600"
    result["headline"] = ["CPU ms per message", "trips", "not written"]
    assert report.headline(result) == "CPU ms per message: 12.35; trips: 15"


def test_the_goals_table_says_when_and_where_a_result_from_another_machine_ran():
    from bench import report

    here = {"name": "webhooks", "figures": {"ratio": 0.3}, "ran": "today", "cpu": "AMD EPYC"}
    kept = {"name": "fairness", "figures": {"s": 1.09}, "ran": "2026-12-01 00:17 UTC"}
    kept["cpu"] = "Intel(R) Xeon(R) Processor"
    unknown = {"name": "reports", "figures": {"ms": 121}, "ran": "2026-11-30 02:51 UTC"}
    table = "\n".join(report.goals_table([here, kept, unknown], "AMD EPYC"))
    assert "| webhooks | ratio: 0.3 |" in table
    assert "| fairness (2026-12-01 00:17 UTC, Intel(R) Xeon(R) Processor) | s: 1.09 |" in table
    assert "| reports (2026-11-30 02:51 UTC, CPU not recorded) | ms: 121 |" in table
