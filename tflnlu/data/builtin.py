"""The built-in default data set: Home Assistant's own intents, expanded into labelled utterances.

Source: the `home-assistant-intents` package (Apache-2.0), sentence templates in the
`hassil` template language, one set per language. Each template is expanded by random
walks (seeded, so the data set is the same on every machine) into utterances whose list
references (`{area}`, `{brightness}`, `{name}` ...) become slot spans. Lists that Home
Assistant fills at run time from a user's devices (names, areas, floors) and wildcard lists
(shopping items, messages ...) are filled from `builtin_values/*.txt`, shipped with tflnlu.

Train, dev and test are split by *template*, not by utterance, so the test split measures
generalisation to phrasings the model never saw.
"""

from __future__ import annotations

import functools
import random
from functools import cache
from pathlib import Path

import home_assistant_intents
from hassil.expression import (
    Alternative,
    Expression,
    ListReference,
    Permutation,
    RuleReference,
    Sequence,
    TextChunk,
)
from hassil.intents import Intents, RangeSlotList, TextSlotList

from tflnlu.data.builtin_cache import cache_directory, cache_key, cached_splits
from tflnlu.data.example import Example, Piece, example_from_pieces
from tflnlu.data.readers import stable_fraction

BUILTIN_NAME = "home-assistant-intents"
TEST_PERCENT = 15
DEV_PERCENT = 10
_VALUES_DIR = Path(__file__).parent / "builtin_values"
_FALLBACK_VALUES = "search_query"  # values for a wildcard list with no file of its own


@cache
def _shipped_values(list_name: str) -> tuple[str, ...]:
    path = _VALUES_DIR / f"{list_name}.txt"
    if not path.is_file():
        path = _VALUES_DIR / f"{_FALLBACK_VALUES}.txt"
    return tuple(line for line in path.read_text(encoding="utf-8").splitlines() if line)


class _Expander:
    """Random walks over one language's parsed templates, producing slot-annotated pieces."""

    def __init__(self, intents: Intents, rng: random.Random):
        self.intents, self.rng = intents, rng

    def sample(self, expression: Expression, data) -> list[Piece]:
        pieces: list[Piece] = []
        self._walk(expression, data, pieces, slot=None)
        return pieces

    def _walk(self, expr: Expression, data, pieces: list[Piece], slot: str | None) -> None:
        if isinstance(expr, TextChunk):
            pieces.append((expr.text, slot))
        elif isinstance(expr, Alternative):
            self._walk(self.rng.choice(expr.items), data, pieces, slot)
        elif isinstance(expr, Permutation):
            items = list(expr.items)
            self.rng.shuffle(items)
            for item in items:
                self._walk(item, data, pieces, slot)
        elif isinstance(expr, Sequence):
            for item in expr.items:
                self._walk(item, data, pieces, slot)
        elif isinstance(expr, RuleReference):
            rule = data.expansion_rules.get(expr.rule_name) or self.intents.expansion_rules[expr.rule_name]
            self._walk(rule.expression, data, pieces, slot)
        elif isinstance(expr, ListReference):
            self._walk_list(expr, data, pieces, slot)
        else:
            raise TypeError(f"unexpected template expression {type(expr).__name__}")

    def _walk_list(self, ref: ListReference, data, pieces: list[Piece], outer_slot: str | None) -> None:
        slot = outer_slot or ref.slot_name
        inline = ref.get_inline_range()
        if inline is not None:
            start, stop, step = inline
            pieces.append((str(self.rng.randrange(start, stop + 1, step)), slot))
            return
        slot_list = data.slot_lists.get(ref.list_name) or self.intents.slot_lists.get(ref.list_name)
        if isinstance(slot_list, TextSlotList):
            value = self.rng.choice(slot_list.values)
            inner: list[Piece] = []
            self._walk(value.text_in, data, inner, slot)
            text = "".join(text for text, _ in inner).strip()
            pieces.append((text, slot) if text else (" ", None))
        elif isinstance(slot_list, RangeSlotList):
            number = self.rng.choice(list(slot_list.get_numbers()))
            pieces.append((f"{number:g}", slot))
        else:  # a wildcard, or a list Home Assistant fills from the user's devices
            pieces.append((self.rng.choice(_shipped_values(ref.list_name)), slot))


def _split_of(key: str) -> str:
    percent = stable_fraction(key)
    if percent < TEST_PERCENT:
        return "test"
    return "dev" if percent < TEST_PERCENT + DEV_PERCENT else "train"


ALL_LANGUAGES = "all"  # --languages=all: every language the package has


def resolve_languages(languages) -> tuple[str, ...]:
    """The languages asked for, "all" expanded to every one the package has (sorted)."""
    available = set(home_assistant_intents.get_languages())
    if list(languages) == [ALL_LANGUAGES]:
        return tuple(sorted(available))
    if ALL_LANGUAGES in languages:
        raise ValueError(f"--languages={ALL_LANGUAGES} stands alone (it means every language)")
    unknown = [lang for lang in languages if lang not in available]
    if unknown or not languages:
        raise ValueError(
            f"no Home Assistant intents for {unknown or 'no language'}; available: "
            f"{ALL_LANGUAGES} or {', '.join(sorted(available))}"
        )
    return tuple(dict.fromkeys(languages))  # a language named twice is loaded once


def load_builtin(
    languages: tuple[str, ...] = ("en",),
    samples_per_template: int = 6,
    seed: int = 0,
    *,
    use_cache: bool = True,
    log=None,
) -> dict[str, list[Example]]:
    """train/dev/test examples from Home Assistant's intents for the given languages (or
    "all"), each language's expansion read from the cache when it is there
    (tflnlu.data.builtin_cache)."""
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    hits = 0
    for language in resolve_languages(languages):
        expand = functools.partial(expand_language, language, samples_per_template, seed)
        if use_cache:
            key = cache_key(
                language, samples_per_template=samples_per_template, seed=seed, code_files=_code_files()
            )
            part, hit = cached_splits(key, expand)
            hits += hit
        else:
            part = expand()
        for name in splits:
            splits[name].extend(part[name])
    if log and use_cache:
        log(
            f"built-in data: {hits} of {len(resolve_languages(languages))} languages from the cache in {cache_directory()}"
        )
    return splits


def _code_files() -> list[Path]:
    """What the expansion runs besides the packages: this package's code (the expansion, the
    tokenizer, the split rule, the example type) and the value lists."""
    here = Path(__file__).parent
    return [*sorted(here.glob("*.py")), *sorted(_VALUES_DIR.glob("*.txt"))]


def expand_language(language: str, samples_per_template: int, seed: int) -> dict[str, list[Example]]:
    """One language's templates expanded into train/dev/test (split by template)."""
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    intents = Intents.from_dict(home_assistant_intents.get_intents(language))
    for intent_name in sorted(intents.intents):
        for data in intents.intents[intent_name].data:
            for template, sentence in zip(data.sentence_texts, data.sentences, strict=True):
                key = f"{language}\t{intent_name}\t{template}"
                expander = _Expander(intents, random.Random(f"{seed}\t{key}"))
                examples = _samples(
                    expander,
                    sentence,
                    data,
                    intent_name=intent_name,
                    count=samples_per_template,
                    language=language,
                )
                splits[_split_of(key)].extend(examples)
    return splits


def _samples(
    expander: _Expander, sentence, data, *, intent_name: str, count: int, language: str
) -> list[Example]:
    """Up to `count` distinct utterances of one template (3 * count walks at most)."""
    seen: set[str] = set()
    examples = []
    for _ in range(count * 3):
        if len(seen) >= count:
            break
        pieces = expander.sample(sentence.expression, data)
        text = " ".join("".join(p for p, _ in pieces).split())
        if text in seen:
            continue
        seen.add(text)
        try:
            examples.append(example_from_pieces(pieces, intent_name, domain=None, language=language))
        except ValueError:
            continue  # a template that expands to nothing but spaces
    return examples
