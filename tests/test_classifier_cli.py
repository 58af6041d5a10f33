"""`jingmin classify` (stdin and --eval) and `jingmin train`: the figures, the guarded install, the
officers' corrections going into training, and a bot using the model trained here."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys

import pytest
import yaml

from bot.cli import main
from handlers.intents import dataset
from handlers.intents.local_model import INSTALLED_NAME

EASY = [("emergency", "救命 3单元着火了 快打119"), ("scam", "兼职刷单日赚300 动动手指 加微信"),
        ("appointment", "我想约明天上午去办居住证"), ("consultation", "补办身份证要带什么材料"),
        ("suggestion", "建议小区门口装个路灯"), ("dispute", "楼上天天半夜装修吵得睡不着 找他也不管"),
        ("tip", "举报 5号楼有人天天聚众赌博"), ("other", "谢谢警官 辛苦了")]


def write_tsv(path, rows, three_columns: bool = False):
    path.write_text("".join(f"{label}\t{''}\t{text}\n" if three_columns else f"{label}\t{text}\n"
                            for label, text in rows), encoding="utf-8")
    return path


def test_classify_reads_stdin_and_prints_json_lines(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("楼道里一股煤气味儿\n谢谢\n"))
    assert main(["classify"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["text"], x["intent"], x["detail"]) for x in lines] == [
        ("楼道里一股煤气味儿", "emergency", "119"), ("谢谢", "other", None)]
    assert all(0 <= x["confidence"] <= 1 for x in lines)


@pytest.mark.parametrize("three_columns", [False, True])
def test_classify_eval_prints_the_figures(tmp_path, capsys, three_columns):
    path = write_tsv(tmp_path / "set.tsv", EASY + [("other", "收到"), ("dispute", "bad\tline\twith\tfour")],
                     three_columns)
    assert main(["classify", "--eval", str(path)]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"messages 9 +accuracy \d\.\d{3} +macro-F1 \d\.\d{3}", out)
    for intent in ("consultation", "emergency", "scam", "other"):
        assert re.search(rf"^{intent} +\d\.\d{{3}} +\d\.\d{{3}} +\d\.\d{{3}} +\d+$", out, re.M)
    assert "confusion (rows gold, columns predicted)" in out and "emergency false alarms" in out
    assert "skipped" in err  # the four-column line is reported, not fatal


def test_classify_eval_of_a_missing_file_is_one_line(capsys):
    assert main(["classify", "--eval", "/nonexistent/x.tsv"]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read /nonexistent/x.tsv")


def test_train_refuses_a_model_that_does_worse(tmp_path, capsys):
    # two emergencies in three of the corpus "corrected" to other, as if an officer dismissed the alerts
    emergencies = [e.text for e in dataset.load("train") if e.intent == "emergency"]
    poisoned = write_tsv(tmp_path / "poison.tsv", [("other", t) for i, t in enumerate(emergencies) if i % 3])
    out_file = tmp_path / "model.npz"
    code = main(["train", "--config", str(tmp_path / "none.yaml"), "--extra", str(poisoned), "--out", str(out_file)])
    out = capsys.readouterr().out
    assert code == 1 and "not installed" in out and "macro-F1" in out
    assert not out_file.exists()
    # measured on the blind holdout of the checkout (sets 2 onward), not on the dev set
    held = re.search(r"shipped model on the blind holdout \((\d+) messages in (\d+) files", out)
    assert held and int(held.group(1)) >= 4800 and int(held.group(2)) >= 24, out[:300]


async def test_an_officers_correction_is_trained_on_and_the_bot_uses_the_new_model(tmp_path, capsys):
    """Alert → /纠正 → jingmin train (shipped + local) → installed in data_dir → next start uses it."""
    from bot.config import load_config
    from bot.harness import Harness
    from tests.conftest import sample_raw

    raw = sample_raw()
    raw["database"] = {"url": f"sqlite+aiosqlite:///{tmp_path / 'jingmin.db'}"}
    raw["data_dir"] = str(tmp_path / "data")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    async with Harness(load_config(config_file)) as bot:
        await bot.say("陈大爷", "救命啊 有人拿刀在单元门口追人", room="幸福里居民群")
        [alert] = bot.texts_to("张警官", bot.take())
        n = re.search(r"纠正号 (\d+)", alert).group(1)
        await bot.say("张警官", f"/纠正 {n} 其他")

    easy = write_tsv(tmp_path / "easy.tsv", EASY)
    # The CLI runs its own event loop, as it does from the shell.
    assert await asyncio.to_thread(main, ["train", "--config", str(config_file), "--eval", str(easy)]) == 0
    out = capsys.readouterr().out
    assert "1 officers' corrections" in out and "new model on" in out and "installed" in out
    assert (tmp_path / "data" / INSTALLED_NAME).exists()
    assert (tmp_path / "data" / "intent_model_verifier.npz").exists()  # its second opinion, trained with it

    async with Harness(load_config(config_file)) as bot:
        from handlers.intents.classifier import classify as shipped
        assert bot.app.classify is not shipped  # the model trained here, loaded from data_dir
        await bot.say("王阿姨", "快报警 楼下有人拿着菜刀砍人", room="幸福里居民群", message_id="second-start-1")
        sent = bot.take()
        assert "【紧急】" in bot.texts_to("张警官", sent)[0], [r.out.text for r in sent]
