"""The closing table of a chaos run, in Markdown (printed, and written by ``--report``)."""

from __future__ import annotations

from bench.chaos.audit import Result

HEADER = (
    "| scenario | accepted | delivered/final | duplicates | lost | stuck | early | breaches "
    "| workers restarted/alive | verdict |"
)


def row(result: Result) -> str:
    """Return one scenario's line."""
    if result.skipped:
        return f"| {result.name} | – | – | – | – | – | – | – | – | {result.verdict} |"
    final = f"{result.final}/{result.accepted}"
    if result.sent_only:
        final += f" (+{result.sent_only} Sent)"
    return (
        f"| {result.name} | {result.accepted} | {final} | {result.duplicates} | {result.lost} "
        f"| {result.stuck} | {result.early} | {result.breaches} | {result.alive} "
        f"| {result.verdict} |"
    )


def markdown(results: list[Result], mode: str, seconds: float) -> str:
    """Return the table, then why each failed scenario failed."""
    lines = [f"## Chaos suite ({mode}, {seconds:.0f} s)", "", HEADER, "|" + "---|" * 10]
    lines += [row(r) for r in results]
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append("")
    for result in failed:
        why = result.failures + [n for n in result.notes if not n.startswith("statuses")]
        lines.append(f"- **{result.name}**: " + "; ".join(why or [result.verdict]))
    return "\n".join(lines)
