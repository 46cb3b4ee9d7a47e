"""What may be written next: the form's layout, the acrostic, the prefix, the rhyme and the tones.

A poem of a fixed form is a grid: n lines of m characters, each closed by ，or 。 in turn, the last
by 。. The composer asks `allowed(...)` for a boolean mask over the vocabulary at every position
and samples only inside it, so the shape holds by construction. The prosody adds two kinds of
masks on character positions:

- rhyme: the last character of every even line must share one 平水韵 平 group with the others;
  the group is open until the first rhyme position is written (line 1's end, if it is a 平
  character: 首句入韵), then narrows to that character's groups (a character in two groups keeps
  both open until a later rhyme decides); under strict tones line 1 rhymes exactly when the kept
  patterns say so, even when a 中 character (平 and 仄) ends it (`_rhyme_mask`);
- tones: of the four pattern variants (平起/仄起, first line rhymed or not), keep those that every
  character so far fits, and allow at the next position only the tones one of them still takes.

If a mask would leave nothing — a prefix or acrostic character that breaks the pattern, a tiny
vocabulary — the constraint is relaxed for that position (tones strict → loose → off, then the
rhyme) and the relaxation is reported, never a broken form. The form itself is never relaxed.

`CState` is immutable, so an undo is popping a list and a beam hypothesis copies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from tangstudio.engine import forms
from tangstudio.engine.compose.line_index import LineIndex
from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.compose.tables import COMMA, LINE_ENDS, PERIOD, VocabTables
from tangstudio.engine.corpus.poem import typed_verse
from tangstudio.engine.corpus.vocab import EOS
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import SENTENCE_ENDS as _SENTENCE_ENDS
from tangstudio.engine.hanzi import is_han
from tangstudio.engine.prosody import PING, ZE, Variant, allowed_tones, fits, line_faults, tones, variants
from tangstudio.engine.prosody.tables import neighbours
from tangstudio.engine.typed_text import listed

FREE_MAX_CHARS = 120  # a free poem is closed with 。 when it reaches this many characters
FREE_MAX_LINE = 12
FREE_MIN_LINES = 2
_FREE_MARKS = "，。！？"  # the marks a free poem may write (no ；: the corpus's free verse rarely has it)


@dataclass(frozen=True)
class Plan:
    """Everything fixed when a poem starts: its layout and the characters the person gave."""

    form: str
    n_lines: int | None
    n_chars: int | None
    fixed: dict[int, int]  # text position -> token id given by the prefix
    prefix_len: int
    acrostic_ids: tuple[int, ...]
    variants: tuple[Variant, ...] = ()
    theme_ids: tuple[int, ...] = ()  # 藏字: characters the poem must contain somewhere
    rhyme_groups: frozenset[str] | None = None  # the 平 group a person chose to rhyme in (--rhyme-group)

    def open_slots(self, pos: int) -> int:
        """How many character places from `pos` on (this one included) the decoder still chooses.

        Fixed forms count exactly (punctuation, acrostic and prefix places are not open); free verse
        counts the places left before it must close, less one in every line for its mark.
        """
        if self.n_lines is None:
            left = max(0, FREE_MAX_CHARS - 1 - pos)
            return left * FREE_MAX_LINE // (FREE_MAX_LINE + 1)
        m = self.chars_per_line + 1
        count = 0
        for p in range(pos, self.length or 0):
            line, col = divmod(p, m)
            if col == self.n_chars or p in self.fixed or (col == 0 and line < len(self.acrostic_ids)):
                continue
            count += 1
        return count

    @property
    def regulated(self) -> bool:
        return self.n_lines is not None

    @property
    def length(self) -> int | None:
        """Text length of a complete fixed-form poem, punctuation included."""
        return None if self.n_lines is None else self.n_lines * (self.chars_per_line + 1)

    @property
    def line_count(self) -> int:
        """Lines of a regulated form (fixed-form code only: free verse has no fixed count)."""
        if self.n_lines is None:
            raise ValueError(f"{self.form} has no fixed number of lines")
        return self.n_lines

    @property
    def chars_per_line(self) -> int:
        """Characters in each line of a regulated form (fixed-form code only: free verse has none)."""
        if self.n_chars is None:
            raise ValueError(f"{self.form} has no fixed line length")
        return self.n_chars

    @property
    def max_len(self) -> int:
        return self.length if self.length is not None else FREE_MAX_CHARS + FREE_MAX_CHARS // 2

    def rhyme_position(self, line: int, col: int) -> bool:
        return self.n_chars is not None and col == self.n_chars - 1 and line % 2 == 1

    def sets_rhyme(self, line: int, col: int, char_tones: frozenset[str]) -> bool:
        """Does the character written here join the rhyme? Every even line's end does; so does line
        1's end when it is a 平 character (首句入韵: a level first line must rhyme with the rest)."""
        return self.rhyme_position(line, col) or (
            self.n_chars is not None
            and line == 0
            and col == self.n_chars - 1
            and char_tones == frozenset({PING})
        )


@dataclass(frozen=True, slots=True)
class CState:
    """Where the poem stands: position, line and column, and what the prosody still allows."""

    pos: int = 0
    line: int = 0
    col: int = 0  # characters written in the current line
    strict: tuple[int, ...] = (0, 1, 2, 3)  # variants every character so far fits strictly
    loose: tuple[int, ...] = (0, 1, 2, 3)  # ... under 一三五不论
    groups: frozenset[str] | None = None  # the rhyme groups still shared by all rhyme positions
    rhymes_used: frozenset[int] = frozenset()
    line_text: str = ""
    last: str = ""  # the last text character written
    done: bool = False
    theme_left: frozenset[int] = frozenset()  # theme characters not written yet
    # The 平 rhyme groups of line 1's last character: under strict tones the rhyme joins them or
    # avoids them so that line 1 rhymes exactly when the kept pattern says it does (_first_rhymes).
    first_groups: frozenset[str] = frozenset()
    # Given characters (a prefix) that broke every pattern still possible; the pattern they broke (or
    # a relaxed step broke) is kept for the characters that follow, not dropped with every tone rule.
    forgiven: int = 0
    unrhymed: tuple[int, ...] = ()  # lines (from 1) a given character ended off every 平 rhyme group
    # Places where a given character (a prefix's, an acrostic's) broke every strict variant still
    # possible: forgiven there, and the strict pattern kept for what follows (a poet's review: one
    # acrostic character turned strict tones off for the rest of the poem).
    strict_broken: int = 0


def start_state(plan: Plan) -> CState:
    """The state before the first character: theme characters the prefix or acrostic give are done."""
    given = set(plan.fixed.values()) | set(plan.acrostic_ids)
    return CState(groups=plan.rhyme_groups, theme_left=frozenset(t for t in plan.theme_ids if t not in given))


@dataclass
class Allowed:
    mask: np.ndarray  # bool[V]: what may be written here, by the composer or by a person
    forced: bool = False
    notes: list[str] = field(default_factory=list)
    # bool[V], when narrower than `mask`: what the composer draws from on its own, without the rare
    # spellings and unread characters a person may still type (VocabTables.not_drawn: 鴈 beside 雁, 㔉).
    sampled: np.ndarray | None = None

    @property
    def drawn(self) -> np.ndarray:
        return self.mask if self.sampled is None else self.sampled


def check_chars(text: str, tables: VocabTables, what: str) -> None:
    """Characters missing from the vocabulary: one line naming them, and the fix if a script change helps."""
    from tangstudio.engine.corpus.script import refuse_unknown

    refuse_unknown(text, tables.vocab, what)


def make_plan(settings: ComposeSettings, tables: VocabTables) -> Plan:
    """Check the form, acrostic and prefix against each other and the vocabulary; fix the layout."""
    settings.validate()
    form = settings.form
    shape = forms.find(form)  # the registry's lines × characters; None × None for a free poem
    n_lines, n_chars = (shape.lines, shape.chars) if shape else (None, None)
    vocab = tables.vocab

    acrostic = "".join(ch for ch in typed_verse(settings.acrostic) if ch not in LINE_ENDS)
    if acrostic:
        bad = [ch for ch in acrostic if not is_han(ch)]
        if bad:
            raise TangError(f"the acrostic must be Chinese characters, not {listed(bad)}")
        check_chars(acrostic, tables, "the acrostic")
        if n_lines is not None and len(acrostic) > n_lines:
            fits = ", ".join(f.name for f in forms.FORMS if f.lines is None or f.lines >= len(acrostic))
            raise TangError(
                f"the acrostic has {len(acrostic)} characters but {form} has {n_lines} lines; "
                f"forms that fit: {fits}"
            )

    prefix = typed_verse(settings.prefix)
    fixed: dict[int, int] = {}
    if prefix:
        bad = [ch for ch in prefix if not (is_han(ch) or ch in LINE_ENDS)]
        if bad:
            raise TangError(f"the prefix must be Chinese characters and punctuation, not {listed(bad)}")
        check_chars("".join(ch for ch in prefix if ch not in LINE_ENDS), tables, "the prefix")
        line = col = 0
        for pos, ch in enumerate(prefix):
            if ch in LINE_ENDS:
                if col == 0:
                    raise TangError(f"the prefix has a mark {ch!r} where line {line + 1} should start")
                if n_chars is not None and col != n_chars:
                    raise TangError(
                        f"line {line + 1} of the prefix has {col} characters; {form} lines have {n_chars}"
                    )
                if n_lines is not None:  # the form decides ，or 。; a ！ or ？ the person wrote stays
                    last = line == n_lines - 1
                    default = COMMA if line % 2 == 0 else PERIOD
                    keep = ch if (ch in "！？" and ch in tables.punct_ids and not last) else default
                else:
                    keep = (
                        ch
                        if ch in _FREE_MARKS and ch in tables.punct_ids
                        else PERIOD
                        if ch in _SENTENCE_ENDS
                        else COMMA
                    )
                fixed[pos] = tables.punct_ids[keep]
                line, col = line + 1, 0
                continue
            if n_chars is not None and col == n_chars:
                raise TangError(f"line {line + 1} of the prefix is longer than {n_chars} characters ({form})")
            if n_lines is not None and line >= n_lines:
                raise TangError(f"the prefix is longer than a whole {form} poem ({n_lines} lines)")
            if n_chars is None and col == FREE_MAX_LINE:
                raise TangError(f"line {line + 1} of the prefix is longer than {FREE_MAX_LINE} characters")
            if col == 0 and line < len(acrostic) and acrostic[line] != ch:
                raise TangError(
                    f"line {line + 1} of the prefix starts with {ch!r} but the acrostic asks for {acrostic[line]!r}"
                )
            fixed[pos] = vocab.stoi[ch]
            col += 1
        if n_lines is None and len(fixed) > FREE_MAX_CHARS:
            raise TangError(f"the prefix is longer than a free poem may be ({FREE_MAX_CHARS} characters)")

    found = tuple(variants(form)) if n_lines is not None else ()
    plan = Plan(form, n_lines, n_chars, fixed, len(fixed), tuple(vocab.stoi[c] for c in acrostic), found)
    if settings.rhyme_group:
        plan = replace(plan, rhyme_groups=frozenset({settings.rhyme_group}))
        _check_given_rhymes(plan, tables)
    theme = "".join(dict.fromkeys(ch for ch in typed_verse(settings.theme) if ch not in LINE_ENDS + "，, 、"))
    if theme:
        bad = [ch for ch in theme if not is_han(ch)]
        if bad:
            raise TangError(f"the theme must be Chinese characters, not {listed(bad)}")
        check_chars(theme, tables, "the theme")
        ids = tuple(vocab.stoi[c] for c in theme)
        plan = replace(plan, theme_ids=ids)
        left = start_state(plan).theme_left
        room = plan.open_slots(plan.prefix_len)
        if len(left) > room:
            raise TangError(
                f"the theme needs {len(left)} places but {form} leaves {room} open after the prefix and acrostic"
            )
    return plan


def _check_given_rhymes(plan: Plan, tables: VocabTables) -> None:
    """A prefix that ends an even line outside the chosen rhyme group: one line, not a poem that
    fails its rhyme in silence (`--rhyme-group 七阳 --prefix 白日依山尽，黄河入海流。`)."""
    chosen = plan.rhyme_groups or frozenset()
    for pos, token in sorted(plan.fixed.items()):
        line, col = divmod(pos, plan.chars_per_line + 1)
        groups = tables.groups_of[token]
        if plan.rhyme_position(line, col) and groups and not groups & chosen:
            raise TangError(
                f"the prefix ends line {line + 1} on {tables.vocab.itos[token]} ({'/'.join(sorted(groups))}), "
                f"not in {'/'.join(sorted(chosen))}, the rhyme group chosen: change one or the other"
            )


def _tone_mask(
    plan: Plan, tables: VocabTables, which: tuple[int, ...], line: int, col: int, strict: bool
) -> np.ndarray | None:
    """The tones one of the still-possible variants takes here, as a mask (None: anything goes)."""
    wanted = allowed_tones(
        [plan.variants[i].lines if strict else plan.variants[i].loose_lines for i in which], line, col
    )
    if wanted == {PING, ZE}:
        return None
    if col == plan.chars_per_line - 1:
        return tables.ping_end if PING in wanted else tables.ze_end
    return tables.ping if PING in wanted else tables.ze


def _fault_guard(
    plan: Plan, tables: VocabTables, which: tuple[int, ...], s: CState
) -> tuple[np.ndarray, str] | None:
    """The two faults the loose rule's free places allow, kept out: (mask, the fault's name).

    一三五不论 frees the 5th of a 7-character line, but a line ending 仄平平 with it 平 ends in
    三平尾; and in a line of 平平仄仄平 shape the first 平 freed to 仄 leaves the rhyme one 平 beside
    it (孤平) unless the next free place turns 平 to rescue it (仄平平仄平, 拗救). The checker names
    both as faults; the composer wrote them (1 poem in 100 at the defaults, 7 in 240 without line
    drafts: a poet's review). Decided left to right: at the third place from the end, where every
    pattern still possible ends alike; at line 1's end (which may rhyme or not), by ending it 仄
    where a 平 end would make the fault. Characters are read as heard inside a line (空 平, 不 仄:
    tables.tones_at), as the checker reads them for these faults (`line_faults`)."""
    n = plan.chars_per_line
    if not which or n < 5 or s.col not in (n - 3, n - 1):  # every other step: nothing to build
        return None
    patterns = {plan.variants[i].lines[s.line] for i in which}
    if s.col == n - 3:
        if all(p.endswith("平平") for p in patterns):
            return tables.ze, "三平尾"
        if all(p.endswith("平平仄仄平") for p in patterns) and _read(tables, s.line_text, n - 5) == {ZE}:
            return tables.ping, "孤平"
    if s.col == n - 1 and len(s.line_text) == n - 1:
        heard = [_read(tables, s.line_text, k) for k in range(n - 1)]
        faults = line_faults([*heard, frozenset({PING})], rhyming=True)
        if faults:
            # 仄 only: a character read both ways (吹 chuī/chuì) ended 八月西风吹, and in a 四支
            # poem a reader hears it 平, the rhyme, and the 三平尾 with it (a poet's review).
            return tables.ze_end & ~tables.ping_end, faults[0]
    return None


def _read(tables: VocabTables, text: str, k: int) -> frozenset[str]:
    """The tones the k-th character of `text` is heard in inside a line (none for one the
    vocabulary lacks)."""
    token = tables.vocab.stoi.get(text[k], -1) if k < len(text) else -1
    return tables.tones_at(token, line_end=False) if token >= 0 else frozenset()


SPECIAL_FORM = ("平平平仄仄", "平平仄平仄")  # 特拗: a line's core and its accepted swapped form (prosody)


def special_form_fits(plan: Plan, tables: VocabTables, s: CState, token: int) -> bool:
    """True where the line so far and `token` fit the 特拗 form 平平仄平仄 (its 1st 平, no free
    place in the core) of a 平平平仄仄 line some still-possible variant has here, in any reading:
    `check` passes 孟浩然's 移舟泊烟渚, and the studio refused its 烟 (a poet's review). A person's
    licence only: the composer itself still writes the standard line."""
    head = plan.chars_per_line - 5
    # only at the 平 the swap puts 4th in the core: earlier, the composer would go on writing the
    # standard line after it (行人不 under strict tones, then 仄 at the 4th)
    if not plan.regulated or token < 0 or s.col != head + 3:
        return False
    text = [tables.vocab.stoi.get(ch, -1) for ch in s.line_text] + [token]
    for i in dict.fromkeys((*s.loose, *s.strict)):
        pattern = plan.variants[i].lines[s.line]
        if pattern[head:] != SPECIAL_FORM[0]:
            continue
        swapped = pattern[:head] + SPECIAL_FORM[1]
        if all(
            (j < head and j % 2 == 0) or (t >= 0 and fits(swapped[j], tables.all_tones_of[t]))
            for j, t in enumerate(text)
        ):
            return True
    return False


def _given_special_line(plan: Plan, tables: VocabTables, s: CState, token: int) -> bool:
    """A given character of a line given in the 特拗 form: its 4th core place (`special_form_fits`),
    or its 3rd, 仄 where the standard strict line wants 平, when the given 4th completes the form
    (`--prefix 移舟泊烟渚 --tones strict` was "relaxed" at 泊: a review of the diff)."""
    head = plan.chars_per_line - 5
    if s.col == head + 3:
        return special_form_fits(plan, tables, s, token)
    following = plan.fixed.get(s.pos + 1)
    if s.col != head + 2 or following is None:
        return False
    ahead = replace(s, pos=s.pos + 1, col=s.col + 1, line_text=s.line_text + tables.vocab.itos[token])
    return special_form_fits(plan, tables, ahead, following)


def allowed(
    plan: Plan, tables: VocabTables, settings: ComposeSettings, s: CState, novelty: LineIndex | None = None
) -> Allowed:
    """The mask of what may come next at state `s` (never empty while the poem is not done)."""
    if s.done:
        raise TangError("the poem is finished; undo or start a new one")
    fixed = plan.fixed.get(s.pos)
    if fixed is not None:
        return Allowed(tables.onehot(fixed), forced=True)
    if plan.regulated:
        if s.col == plan.n_chars:
            return Allowed(tables.onehot(tables.comma if s.line % 2 == 0 else tables.period), forced=True)
    else:
        return _heads_kept_apart(plan, tables, common_spellings(tables, _free_allowed(plan, tables, s)))
    if s.col == 0 and s.line < len(plan.acrostic_ids):
        return Allowed(tables.onehot(plan.acrostic_ids[s.line]), forced=True)
    found = _theme(plan, tables, s, prosody_allowed(plan, tables, settings, s, novelty))
    return _heads_kept_apart(plan, tables, common_spellings(tables, found))


def acrostic_heads(plan: Plan, tables: VocabTables) -> np.ndarray:
    """bool[V]: the acrostic's characters in every spelling the vocabulary holds (猿 and 猨 alike),
    made once per acrostic and kept on the tables: `allowed` asks at every step of every draft."""

    def build() -> np.ndarray:
        from tangstudio.engine.compose.craft.repetition import spellings_for

        spellings = spellings_for(tables)
        mask = np.zeros_like(tables.hanzi)
        mask[[other for t in plan.acrostic_ids for other in (t, *spellings.get(t, ()))]] = True
        return mask

    return tables.cached("acrostic_heads:" + ",".join(map(str, plan.acrostic_ids)), build)


def _heads_kept_apart(plan: Plan, tables: VocabTables, found: Allowed) -> Allowed:
    """`found`, drawing no acrostic character (in any spelling) at a place of the composer's own: a
    藏头 character heads its line and is not heard again in the poem. The repetition penalty let
    月明 follow a line headed 明 in a third of 50 acrostic 五绝 (a poet's review: 明月不相见，月明人独归).
    A person may still type one."""
    if found.forced or not plan.acrostic_ids:
        return found
    drawn = found.drawn & ~acrostic_heads(plan, tables)
    return Allowed(found.mask, notes=found.notes, sampled=drawn) if bool(drawn.any()) else found


def common_spellings(tables: VocabTables, found: Allowed) -> Allowed:
    """`found`, drawing only common spellings of characters with a known reading where any is left
    (a theme's rare one stays placeable)."""
    rare_here = found.mask & tables.not_drawn  # only hanzi: marks and a free poem's end stay
    if found.forced or not bool(rare_here.any()):
        return found
    drawn = found.mask ^ rare_here
    return Allowed(found.mask, notes=found.notes, sampled=drawn) if bool(drawn.any()) else found


THEME_SLACK = 2  # start placing theme characters this many open places before the last chance


def _theme(plan: Plan, tables: VocabTables, s: CState, found: Allowed) -> Allowed:
    """Make room for the theme characters not written yet (藏字), planning from the places left.

    While more places remain than characters, the model writes freely (a theme character it picks
    itself counts). Within THEME_SLACK places of the last chance, a place where a theme character
    fits the rhyme and tones takes one; at the last chance one is placed even against the
    pattern, and the note says so. The theme is never dropped.
    """
    if not s.theme_left or found.forced:
        return found
    left = len(s.theme_left)
    slots = plan.open_slots(s.pos)
    if slots > left + THEME_SLACK:
        return found
    theme = np.zeros_like(tables.hanzi)
    theme[list(s.theme_left)] = True
    fitting = found.mask & theme
    if bool(fitting.any()):
        return Allowed(fitting, notes=found.notes)
    if slots > left:
        return found
    chars = "".join(tables.vocab.itos[t] for t in sorted(s.theme_left))
    where = f"line {s.line + 1}, character {s.col + 1}"
    note = f"{where}: theme character ({chars}) placed against the rhyme or tone pattern, its last chance"
    return Allowed(theme & tables.hanzi, notes=[*found.notes, note])


def _first_rhymes(plan: Plan, settings: ComposeSettings, s: CState) -> bool | None:
    """Must line 1 rhyme (True), must it not (False), or may it do either (None)?

    The checker names the pattern that agrees with whether line 1 rhymes before the one that fits
    a free place better, so under strict tones line 1 has to do what every strictly kept pattern
    says: a 中 character (看, 否: 平 and 仄) ending it decides nothing by its tone alone.
    """
    if settings.tones != "strict" or not s.strict:
        return None
    kinds = {plan.variants[i].first_line_rhymes for i in s.strict}
    return kinds.pop() if len(kinds) == 1 else None


def _rhyme_mask(plan: Plan, tables: VocabTables, settings: ComposeSettings, s: CState) -> np.ndarray | None:
    """The characters the rhyme allows here (None: no rhyme is due at this place).

    Every even line's end rhymes. Under strict tones line 1's end must be a rhyme character when
    only 首句入韵 patterns are kept, and the even lines' rhyme joins or avoids line 1's groups as
    the kept patterns say (`_first_rhymes`), so the checker reads the pattern the composer kept.
    """
    if not settings.rhyme or plan.n_chars is None or s.col != plan.n_chars - 1:
        return None
    first = _first_rhymes(plan, settings, s)
    if s.line == 0:
        # the poet's group, narrowed to fit rhyme characters already fixed below (a locked line 2
        # under a reroll of line 1): line 1 either joins that rhyme or ends 仄 (首句出韵 otherwise)
        chosen = s.groups
        if first:
            return tables.rhymable if chosen is None else tables.rhyme_mask(chosen)
        # a chosen group: line 1 ends on a 仄 character, or on a 平 one of the group (首句入韵)
        return tables.rhyme_mask(chosen) | tables.ze_end if chosen and first is None else None
    if not plan.rhyme_position(s.line, s.col):
        return None
    rhyme = tables.rhymable if s.groups is None else tables.rhyme_mask(s.groups)
    if first is True and s.first_groups:
        rhyme = rhyme & tables.rhyme_mask(s.first_groups)
    elif first is False and s.first_groups:
        rhyme = rhyme & ~tables.rhyme_mask(s.first_groups)
    return rhyme


def prosody_allowed(
    plan: Plan, tables: VocabTables, settings: ComposeSettings, s: CState, novelty: LineIndex | None
) -> Allowed:
    mask, notes = tables.hanzi, []
    where = f"line {s.line + 1}, character {s.col + 1}"
    rhyme = _rhyme_mask(plan, tables, settings, s)
    if rhyme is not None:
        if bool((mask & rhyme).any()):
            mask = mask & rhyme
            if s.rhymes_used:  # prefer a rhyme character not used yet, when there is one
                fresh = mask.copy()
                fresh[list(s.rhymes_used)] = False
                mask = fresh if bool(fresh.any()) else mask
        else:
            notes.append(f"{where}: no character of the rhyme group left; rhyme relaxed")
    if settings.tones != "off":
        strict_first = settings.tones == "strict" and bool(s.strict)
        which, strict = (s.strict, True) if strict_first else (s.loose, False)
        if which:  # no variant left means fixed characters broke the pattern: reported once, at the end
            tone = _tone_mask(plan, tables, which, s.line, s.col, strict)
            if strict and tone is not None and not bool((mask & tone).any()):
                tone = _tone_mask(plan, tables, s.loose, s.line, s.col, False) if s.loose else None
                notes.append(f"{where}: no character fits the strict tone pattern; loose pattern used")
            if tone is not None:
                if bool((mask & tone).any()):
                    mask = mask & tone
                else:
                    notes.append(f"{where}: no character fits the tone pattern; tones relaxed")
            guard = _fault_guard(plan, tables, which, s)
            if guard is not None and bool((mask & guard[0]).any()):
                mask = mask & guard[0]
    if novelty is not None and plan.n_chars is not None and s.col == plan.n_chars - 1:
        blocked = [tables.vocab.stoi[c] for c in novelty.completions(s.line_text) if c in tables.vocab.stoi]
        if blocked:
            fresh = mask.copy()
            fresh[blocked] = False
            if bool(fresh.any()):
                mask = fresh
            else:
                notes.append(f"{where}: every allowed ending copies a corpus line; novelty relaxed")
    return Allowed(mask, notes=notes)


def _free_allowed(plan: Plan, tables: VocabTables, s: CState) -> Allowed:
    if s.col == 0:
        if s.line < len(plan.acrostic_ids):
            return Allowed(tables.onehot(plan.acrostic_ids[s.line]), forced=True)
        may_end = s.line >= FREE_MIN_LINES and s.last in _SENTENCE_ENDS and not s.theme_left
        if may_end and s.pos >= FREE_MAX_CHARS:
            return Allowed(tables.onehot(EOS), forced=True)
        mask = tables.hanzi.copy()
        mask[EOS] = may_end
        return _theme(plan, tables, s, Allowed(mask))
    if s.pos >= FREE_MAX_CHARS or (s.line + 1 < FREE_MIN_LINES and s.pos >= FREE_MAX_CHARS - 1):
        return Allowed(tables.onehot(tables.period), forced=True)
    marks = np.zeros_like(tables.hanzi)
    marks[[tables.punct_ids[m] for m in _FREE_MARKS if m in tables.punct_ids]] = True
    if s.col >= FREE_MAX_LINE:
        return Allowed(marks)
    return _theme(plan, tables, s, Allowed(tables.hanzi | marks))


def advance(plan: Plan, tables: VocabTables, s: CState, token_id: int) -> CState:
    """The state after writing `token_id` (assumed allowed)."""
    if token_id == EOS:
        return replace(s, done=True)
    theme_left = s.theme_left - {token_id} if token_id in s.theme_left else s.theme_left
    ch = tables.vocab.itos[token_id]
    if ch in LINE_ENDS:
        done = plan.length is not None and s.pos + 1 >= plan.length
        return replace(s, pos=s.pos + 1, line=s.line + 1, col=0, line_text="", last=ch, done=done)
    strict, loose, groups, used = s.strict, s.loose, s.groups, s.rhymes_used
    forgiven, unrhymed, strict_broken = s.forgiven, s.unrhymed, s.strict_broken
    first_groups = s.first_groups
    if plan.regulated:
        line_end = s.col == plan.chars_per_line - 1
        given = plan.fixed.get(s.pos) == token_id  # a prefix's: the person's, not the composer's
        # the composer's own characters as heard; a person's in any reading, as the checker reads them
        t = tables.given_tones(token_id, line_end) if given else tables.tones_at(token_id, line_end)
        fit_strict = tuple(i for i in strict if fits(plan.variants[i].lines[s.line][s.col], t))
        kept = tuple(i for i in loose if fits(plan.variants[i].loose_lines[s.line][s.col], t))
        if kept or not loose:
            loose = kept
        else:  # it broke them all: forgiven, and the patterns go on guiding the rest of the poem
            # (a given line in the 特拗 form breaks nothing: `generate --prefix 移舟泊烟渚` said "relaxed")
            forgiven += given and not _given_special_line(plan, tables, s, token_id)
        if fit_strict or not strict:
            strict = fit_strict
        else:
            # A character the composer did not choose freely (given, an acrostic's, a relaxed step)
            # broke every strict variant: forgiven there, and the rest follows the strict pattern of
            # the variants the loose rule still allows, which agree with the line ends (the rhyme)
            # so far. The person's are counted for the notes (a relaxed step says so in its own).
            strict = loose
            special = given and _given_special_line(plan, tables, s, token_id)
            strict_broken += (given and not special) or (s.col == 0 and s.line < len(plan.acrostic_ids))
        if s.line == 0 and s.col == plan.chars_per_line - 1:
            first_groups = tables.groups_of[token_id]
            if first_groups:  # a reader may hear it rhyme (长 read cháng): not to end a rhyme line again
                used = used | {token_id}
            if _borrows_a_neighbour(tables, groups, token_id):  # 首句借邻韵 (typed, never drawn):
                first_groups = groups or first_groups  # line 1 counts as rhyming in the group
        if plan.sets_rhyme(s.line, s.col, t):
            mine = tables.groups_of[token_id]
            if mine:
                narrowed = mine if groups is None else (groups & mine)
                groups = narrowed or groups
            elif given and plan.rhyme_position(s.line, s.col):
                unrhymed = (*unrhymed, s.line + 1)
            used = used | {token_id}
    return CState(
        s.pos + 1,
        s.line,
        s.col + 1,
        strict,
        loose,
        groups,
        used,
        s.line_text + ch,
        ch,
        False,
        theme_left,
        first_groups,
        forgiven,
        unrhymed,
        strict_broken,
    )


def rhyme_group(s: CState) -> str | None:
    """The rhyme group the poem settled on (the first in table order when several remain)."""
    if not s.groups:
        return None
    from tangstudio.engine.prosody import GROUPS

    order = {g: i for i, g in enumerate(GROUPS)}
    return min(s.groups, key=order.__getitem__)


def _borrows_a_neighbour(tables: VocabTables, groups: frozenset[str] | None, token: int) -> bool:
    """Whether `token`, ending line 1 on 平 outside the poem's `groups`, is in one of their 邻韵:
    首句借邻韵, a licence the checker accepts, so a person may type it there (the composer keeps to
    the group itself; readers heard a borrowed first line as one that fails to rhyme)."""
    if not groups or not tables.ping_end[token] or tables.groups_of[token] & groups:
        return False
    return bool(tables.groups_of[token] & frozenset().union(*(neighbours(g) for g in groups)))


def _first_line_refusal(
    plan: Plan, tables: VocabTables, settings: ComposeSettings, s: CState, ch: str, token: int, where: str
) -> str:
    """Why line 1 may not end on `ch`: the rhyme a pattern kept asks of it, or the group it must
    join if it ends 平 (chosen by the poet, or fixed by the lines below: a locked line, a filled grid)."""
    mine = "/".join(sorted(tables.groups_of[token])) or "no 平 group"
    if not s.groups:
        return f"{ch} cannot end {where}: the pattern kept rhymes line 1, and {ch} is in no 平 rhyme group"
    chosen = "/".join(sorted(s.groups))
    why = "the group chosen" if s.groups == plan.rhyme_groups else "the rhyme of the lines below"
    if _first_rhymes(plan, settings, s):
        return f"{ch} ({mine}) cannot end {where}: the pattern kept rhymes line 1, in {chosen}, {why}"
    near = "/".join(sorted(frozenset().union(*(neighbours(g) for g in s.groups)) - s.groups))
    borrow = f" (or, typed, in its neighbour {near}: 首句借邻韵)" if near else ""
    return f"{ch} is 平 ({mine}): line 1 ends on a 仄 character or rhymes in {chosen}, {why}{borrow}"


def refusal(
    plan: Plan, tables: VocabTables, settings: ComposeSettings, s: CState, allowed: Allowed, token: int
) -> str | None:
    """Why `token` may not be written at state `s` (None: it may), in words a person can act on."""
    if bool(allowed.mask[token]):
        return None
    vocab = tables.vocab
    ch = EOS_NAME if token == EOS else vocab.itos[token]
    where = f"line {s.line + 1}, character {s.col + 1}"
    # which of them sets a forced place: "the form, the acrostic or the prefix" left it to guess (a poet's review)
    if allowed.forced:
        wanted = vocab.itos[int(np.flatnonzero(allowed.mask)[0])]
        if s.pos in plan.fixed:
            by = "the prefix"
        elif s.col == 0 and s.line < len(plan.acrostic_ids):
            by = "the acrostic (藏头)"
        else:
            by = "the form"
        return f"{where} is {wanted}, set by {by}"
    if ch in LINE_ENDS or not bool(tables.hanzi[token]):
        if plan.regulated:
            return f"{ch!r} cannot go at {where}: the form writes the punctuation itself"
        return f"{ch!r} cannot go at {where}"
    if s.theme_left:  # the theme's last places (_theme): only its characters go here
        theme = np.zeros_like(tables.hanzi)
        theme[list(s.theme_left)] = True
        if not bool((allowed.mask & ~theme).any()):
            chars = "".join(vocab.itos[t] for t in sorted(s.theme_left))
            return f"{where} is kept for the theme's {chars} (藏字): the poem has no later place for it"
    rhyme = _rhyme_mask(plan, tables, settings, s)
    borrowed = licensed = False
    if s.line == 0 and rhyme is not None and not bool(rhyme[token]):
        borrowed = _borrows_a_neighbour(tables, s.groups, token)
        if not borrowed:
            return _first_line_refusal(plan, tables, settings, s, ch, token, where)
        rhyme = None  # the tones below still judge it
    if rhyme is not None and not bool(rhyme[token]):
        plain = tables.rhymable if s.groups is None else tables.rhyme_mask(s.groups)
        if bool(plain[token]):
            first = "/".join(sorted(s.first_groups))
            joins = "must rhyme in" if _first_rhymes(plan, settings, s) else "must not rhyme in"
            return f"{ch} does not fit the tones strict pattern kept: the rhyme {joins} line 1's {first}"
        if s.groups is None:
            return f"{ch} cannot end {where}: it is in no 平 rhyme group"
        return f"{ch} does not rhyme: the end of line {s.line + 1} must be in {'/'.join(sorted(s.groups))}"
    if plan.regulated and settings.tones != "off":
        which = s.strict if settings.tones == "strict" and s.strict else s.loose
        if which:
            tone = _tone_mask(
                plan, tables, which, s.line, s.col, settings.tones == "strict" and bool(s.strict)
            )
            if tone is not None and not bool(tone[token]) and special_form_fits(plan, tables, s, token):
                licensed = True
            elif tone is not None and not bool(tone[token]):
                line_end = s.col == plan.chars_per_line - 1
                heard = tables.tones_at(token, line_end)
                has = "/".join(sorted(heard)) or "of no known tone"
                if heard and heard != tones(ch, tables.vocab.script):
                    where_heard = "at a line end" if line_end else "inside a line"
                    has += f" {where_heard} (the Tang poets use it so there)"
                wants = PING if tone is tables.ping or tone is tables.ping_end else ZE
                return f"{ch} is {has}, but {where} takes a {wants} character here (tones {settings.tones})"
            guard = _fault_guard(plan, tables, which, s)
            if guard is not None and not bool(guard[0][token]):
                wants = PING if guard[0] is tables.ping else ZE
                return f"{ch} here would leave the line in {guard[1]}: {where} takes a {wants} character"
    if borrowed or licensed:
        return None  # 首句借邻韵 or 特拗, and the rest allows it
    if s.col == (plan.n_chars or 0) - 1:
        if token in s.rhymes_used and rhyme is not None:
            return f"{ch} already ends a line of this poem: the same rhyme twice is 重韵"
        # What is left is the novelty check, which keeps the model from copying a corpus line, not a
        # person from writing one (a poet's review: 白云生远岫 typed was refused, and accepted as a
        # prefix); the result still names the line as shared with the corpus.
        return None
    return f"{ch} is not allowed at {where}"


EOS_NAME = "<eos>"
