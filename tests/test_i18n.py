"""The translation check of the Chinese edition (scripts/i18n.py): it counts what is translated,
stale and untranslated, and finds a translation that lost the message's markup."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("babel")
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "i18n.py"
spec = importlib.util.spec_from_file_location("i18n_script", SCRIPT)
i18n = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n)

CATALOGUE = r'''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

msgid "The {term}`support set` has $K$ examples per class: `Episode.support_x`."
msgstr "{term}`支持集 <support set>` 每类有 $K$ 个样本：`Episode.support_x`。"

msgid "See [the paper](https://arxiv.org/abs/1703.03400)."
msgstr "见[论文](https://arxiv.org/abs/1703.03400)。"

#, fuzzy
msgid "A changed paragraph."
msgstr "旧的译文。"

msgid "Not translated yet."
msgstr ""

msgid "It reaches {glue:text}`accuracy:.1f` % with `adapt_steps=1`."
msgstr "准确率达到 {glue:text}`accuracy:.2f` %，`adapt_steps=1`。"
'''


def test_the_markup_a_translation_must_keep():
    english = "The {term}`support set` has $K$ shots, `code`, and [a link](x.html)."
    kept = "{term}`支持集 <support set>` 有 $K$ 个样本，`code`，[链接](x.html)。"
    assert i18n.markup(english) == i18n.markup(kept)
    lost = "支持集有 K 个样本，`code`，[链接](x.html)。"  # the role and the math are gone
    assert i18n.markup(english) - i18n.markup(lost)
    assert i18n.markup("`a`") - i18n.markup("`b`")


def test_the_check_counts_each_state_and_finds_lost_markup(tmp_path, capsys):
    (tmp_path / "page.po").write_text(CATALOGUE, encoding="utf-8")
    problems = i18n.check(catalogues=tmp_path)
    out = capsys.readouterr().out
    assert "translated     3  stale    1  untranslated     1  markup lost   1" in out
    assert "accuracy:.1f" in out  # the glue format the translation changed
    assert problems == 3  # stale, untranslated, lost markup
