"""`tangstudio check POEM`: 平仄 under each character, the rhyme at line ends, broken rules in colour."""

from __future__ import annotations

from collections.abc import Callable

import typer

from tangstudio.cli.app import POEM_HELP, app, read_poem

FORM_HELP = (
    "auto, wujue, qijue, wulv, qilv, or free for verse of no regular shape; or 五绝, 七绝, 五律, 七律, 古体."
)


@app.command()
def check(
    poem: str = typer.Argument(..., help=POEM_HELP),
    form: str = typer.Option("auto", "--form", "-f", help=FORM_HELP),
    script: str = typer.Option(
        "auto", "--script", "-s", help="simplified, traditional, or auto (guess from the text)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object instead of the coloured report."
    ),
) -> None:
    """Check a poem against the rules of regulated verse: tones (平仄), rhyme (平水韵), 孤平 and 三平尾."""
    from tangstudio.cli.render import print_json
    from tangstudio.engine.prosody import check_poem

    poem = read_poem(poem)
    if script not in ("auto", "simplified", "traditional"):
        from tangstudio.engine.errors import TangError

        raise TangError(f"unknown script {script!r}; choose simplified, traditional or auto")
    from tangstudio.engine.corpus.script import guess_script

    guessed = guess_script(poem)
    asked, script = script, guessed if script == "auto" else script
    result = check_poem(poem, form=form, script=script, titles=True)
    if asked != "auto" and guessed != asked and guessed == "traditional":
        # a traditional poem read with the simplified tables: its 对仗 pairs all read "+0.00 chance",
        # in silence (a poet's review)
        result.warnings.insert(
            0, "the poem looks traditional: --script traditional (or auto) reads it with its own tables"
        )
    chars = [c for line in result.lines for c in line.chars]
    if chars and all(c.kind == "unknown" for c in chars):  # all "✓" would be silently wrong
        from tangstudio.engine.errors import TangError

        missing = "".join(dict.fromkeys(c.char for c in chars))
        raise TangError(f"none of the characters is in the tone tables ({missing[:20]}); nothing to check")
    couplets = duizhang_of(result)
    if as_json:
        print_json({**result.to_dict(), "duizhang": [c.to_dict() for c in couplets]})
        return
    show_check(result)
    show_duizhang(couplets, in_poem_script(result))


def duizhang_of(result) -> list:
    """对仗 of a 律诗's 颔联 and 颈联 (engine/prosody/duizhang.py); [] for other forms."""
    from tangstudio.engine.prosody.duizhang import LV_FORMS, report_lines

    if result.form not in LV_FORMS:
        return []
    return report_lines(["".join(c.char for c in line.chars) for line in result.lines], result.script)


def in_poem_script(result) -> Callable[[str], str]:
    """What the report says, in the poem's script (五言律詩, 十賄, 失對, 頷聯 …), the poem's own
    characters as they are (a scholar found 一東 in the table and 一东 two lines below it)."""
    from tangstudio.engine.corpus.script import labels_in

    return labels_in(result.script, "".join(c.char for line in result.lines for c in line.chars))


def show_duizhang(couplets, in_script: Callable[[str], str] = str) -> None:
    from rich.text import Text

    from tangstudio.cli.render import console
    from tangstudio.engine.prosody.duizhang import unpaired_warning

    style = {"often": "green", "叠字": "green", "chance": "yellow", "rare": "red"}
    for c in couplets:
        line = Text(in_script(f"{c.name} 对仗 {c.score:+.2f}  "), style="bold")
        pairs = list(c.pairs)
        for k, (a, b, pmi, label) in enumerate(pairs):
            if label == "叠字" and k and pairs[k - 1][:2] == (a, b) and pairs[k - 1][3] == "叠字":
                continue  # its second half: 萧萧↔滚滚 is one pair of words, shown once
            doubled = label == "叠字" and k + 1 < len(pairs) and pairs[k + 1][:2] == (a, b)
            a, b = (a * 2, b * 2) if doubled else (a, b)
            said = f"{a}↔{b} {round(pmi, 1) + 0.0:+.1f} {in_script(label)}  "  # never -0.0
            line.append(said, style=style[label])
        console.print(line)
        warning = unpaired_warning(c)
        if warning is not None:
            console.print(f"[yellow]⚠ {in_script(warning)}[/yellow]")
    if couplets:
        console.print(
            in_script(
                "[dim]对仗: mean PMI of the aligned pairs of lines 3/4 and 5/6, mined from the train split's 律诗 "
                "(docs/prosody.md): how often the poets set each pair face to face, often ≥ 1 (e × chance), rare < 0; "
                "a habit, not a grammar (三月／万金 is 对仗, 月↔金 rare); 叠字 facing 叠字 counts as often[/dim]"
            )
        )


def show_check(result) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from tangstudio.cli.render import console, print_table
    from tangstudio.engine import forms
    from tangstudio.engine.prosody import group_label
    from tangstudio.engine.prosody.checker import FAULTS, fault_name

    in_script = in_poem_script(result)

    table = Table(show_header=True, header_style="dim", box=None, padding=(0, 2))
    table.add_column("#", justify="right", style="dim")
    table.add_column("line / tones")
    table.add_column("pattern", style="dim")
    table.add_column("rhyme")
    table.add_column("notes")
    for i, line in enumerate(result.lines, 1):
        chars, marks = Text(), Text()
        for c in line.chars:
            style = {"tone": "bold red", "strict": "yellow", "unknown": "magenta"}.get(c.kind or "", "")
            chars.append(c.char, style=style or "bold")
            marks.append(
                c.mark, style=style or ("cyan" if c.mark == "平" else "blue" if c.mark == "仄" else "green")
            )
        rhyme = Text()
        if line.rhymes is not None and line.chars[-1].kind == "unknown":
            # a character missing from the tables (𠀀) or lost (□): no verdict either way
            rhyme.append("？ not judged", style="magenta")
        elif line.rhymes is not None:
            group = ((result.rhyme_group or result.ze_rhyme) if line.rhymes else "/".join(line.groups)) or "?"
            rhyme.append(
                ("✓ " if line.rhymes else "✗ ") + in_script(group),
                style="green" if line.rhymes else "bold red",
            )
        elif line.groups:
            rhyme.append(in_script("/".join(line.groups)), style="dim")
        notes = Text(in_script(" ".join(line.warnings)), style="yellow")
        table.add_row(str(i), chars, line.pattern or "", rhyme, notes)
        table.add_row("", marks, line.loose_pattern or "", "", "")
    print_table(table)
    plain = console.color_system is None  # a pipe or NO_COLOR: no red to find a broken place by
    if plain:
        for said in result.broken:
            console.print(f"✗ {in_script(said)}", highlight=False, markup=False)
    for warning in result.warnings:
        console.print(f"[yellow]⚠ {escape(in_script(warning))}[/yellow]")

    def flag(ok: bool) -> str:
        return "[green]✓[/green]" if ok else "[bold red]✗[/bold red]"

    found = forms.find(result.form)
    name = found.zh if found else result.form
    if found and result.ze_rhyme and result.form_ok:
        # 望岳 read "五言律诗 … 古体, not 律" in one header (a poet's review): its shape, and what it is
        name = f"{'五' if found.chars == 5 else '七'}言{'古绝' if found.lines == 4 else '古诗'}"
    parts = [f"[bold]{name}[/bold] ({result.form}, {result.script})"]
    if result.form_ok:
        parts.append(result.variant or "")
    rhyme_name = group_label(result.rhyme_group) if result.rhyme_group else "none"
    if result.ze_rhyme:  # it rhymes, on 仄: say so rather than "none"
        named = "/".join(group_label(g) for g in result.ze_rhyme.split("/"))
        rhyme_name = f"仄韵 {named}" + (" (regulated verse rhymes on 平)" if result.form_ok else "")
    if result.form_ok:
        parts.append(f"rhyme {rhyme_name} {flag(result.rhyme_ok)}")
    else:  # 古体 may change its rhyme (换韵) or rhyme on 仄: the rhyme is named, not judged (a poet's review)
        parts.append(f"rhyme {rhyme_name} (free verse: named, not judged)")
    if result.form_ok and result.ze_rhyme:  # 古绝 or another 古体: no 平韵 pattern is held against it
        parts.append("tones not judged (a 仄-rhymed poem is old-style verse, 古体, not 律)")
    elif result.form_ok:
        parts.append(f"tones loose {flag(result.tones_loose_ok)} strict {flag(result.tones_strict_ok)}")
        # 孤平, 三平尾 and 重韵 are faults of 律 in their own right, not notes beside a pass (a poet's review)
        for fault in FAULTS:
            naming = [w for w in result.faults if fault_name(w) == fault]
            if not naming:
                continue
            if fault == "重韵":  # "重韵: 「长」 ends lines 1 and 4": the character
                where = " ".join(w.split("「")[1].split("」")[0] for w in naming)
            else:  # "line 2: 孤平": the line
                where = "line " + ", ".join(w.split(":")[0].removeprefix("line ") for w in naming)
            parts.append(f"[bold red]{fault} ✗[/bold red] ({where})")
    parts.append(f"warnings {len(result.warnings)}")
    console.print(in_script(" · ".join(parts)))
    marked = (
        "✗: breaks 二四六分明 (or a 特拗 line's 1st 平) or the rhyme (listed above the warnings)"
        if plain
        else "red: breaks 二四六分明 (or a 特拗 line's 1st 平) or the rhyme; yellow: off the strict pattern where 一三五不论 allows it"
    )
    console.print(
        in_script(f"[dim]平 level, 仄 oblique, 中 either (several readings), ？ unknown; {marked}[/dim]")
    )
