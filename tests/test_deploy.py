"""The Pages workflow runs exactly the README's two commands and publishes the folder the Makefile builds."""

from __future__ import annotations

import re

import yaml

from conftest import ROOT

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def steps(job: str) -> list[dict]:
    return WORKFLOW["jobs"][job]["steps"]


def test_workflow_runs_on_pushes_to_main():
    on = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]
    assert WORKFLOW["permissions"]["pages"] == "write" and WORKFLOW["permissions"]["id-token"] == "write"


def test_workflow_runs_the_readme_commands_in_order():
    commands = readme_commands()
    assert commands == ["make book", "make test"]
    runs = [s["run"].strip() for s in steps("build") if "run" in s]
    assert [r for r in runs if r in commands] == commands


def test_workflow_uploads_the_folder_the_makefile_builds():
    site = re.search(r"^SITE\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    uploads = [s for s in steps("build") if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(uploads) == 1 and uploads[0]["with"]["path"] == site == "_build/html"
    test_step = next(i for i, s in enumerate(steps("build")) if s.get("run", "").strip() == "make test")
    assert steps("build").index(uploads[0]) > test_step, "publish only what passed the tests"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps("deploy"))
    assert WORKFLOW["jobs"]["deploy"]["needs"] == "build"
