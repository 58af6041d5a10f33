"""Tip reports (线索举报): confidential reports in private chat, routed to the right unit,
answered through a receipt only the reporter holds.

Resident:  举报 / 线索 (private) → category → what happened (+ photos/files) → when and where
           (跳过) → 保密? → summary → 确认 → receipt.   查询 <receipt> from any chat.
Group:     举报/线索 or the classifier's "tip" → a short public nudge to report in private.
Officers:  /线索, /线索 查看 N, /线索 附件 N, /线索 回复 N 文本, /线索 结案 N 结果 (private chat only).

Confidentiality: the reporter's contact id exists only encrypted in `tips`; every message to the
reporter (and every full-text view) goes through the outbox with source "tip", whose recipient and
text are cleared once sent. Attachments are decrypted only to be sent to the officer who asks, into
files of a private temporary folder that the outbox deletes once they are sent.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.context import Context
from bot.masking import mask_text
from bot.messages import MessageKind, Outgoing
from bot.plugin import END, STAFF, Plugin
from bot.vault import VaultError
from handlers.tips.config import TipSettings
from storage import tips as store
from storage.models import AuditEntry

plugin = Plugin("tips", config=TipSettings, order=60)
plugin.menu_item("私聊我说“举报”：向民警提供违法犯罪线索，可以为您保密")

CATEGORIES = ["诈骗/经济犯罪", "毒品", "食品药品", "治安/盗窃", "其他"]
CATEGORY_WORDS = {  # what residents actually type for each category
    "诈骗/经济犯罪": ("诈骗", "骗", "经济", "传销", "集资", "反诈"),
    "毒品": ("毒", "吸毒", "贩毒"),
    "食品药品": ("食品", "药品", "食药", "假药", "过期"),
    "治安/盗窃": ("治安", "盗窃", "偷", "打架", "赌"),
    "其他": ("其他", "其它", "别的"),
}
YES_CONFIDENTIAL = ("保密", "要保密", "需要保密", "需要", "要", "是", "1")
NO_CONFIDENTIAL = ("不用", "不用保密", "不需要", "不保密", "公开", "否", "2")
CONFIRM_WORDS = ("确认", "提交", "确定", "是", "对", "好", "好的", "1")
SKIP_WORDS = ("跳过", "不知道", "不清楚", "没有", "无")
MAX_ATTACHMENTS = 9
MAX_LISTED = 30
RECEIPT_DIGITS = 16
# Decrypted attachments wait here (one 0700 folder per request) only until the outbox sends them.
ATTACHMENT_DIR = Path(tempfile.gettempdir()) / "jingmin-tip-files"
SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")
DEFAULT_SUFFIX = {"image": ".jpg", "video": ".mp4"}

TEXTS = {
    "ask_category": ("感谢您愿意向警方提供线索。请问是哪一类？回复数字就行：\n{options}\n"
                     "随时回复“取消”可以退出，回复“返回”回到上一步。"),
    "bad_category": "没看懂您选的类别，请回复 1 到 5 中的一个数字。",
    "ask_what": "请说说发生了什么事。可以打字，也可以发照片或文件。",
    "ask_what_more": "已收到{n}个附件。请再用文字说说发生了什么事（还可以继续发照片）。",
    "ask_when": "这件事大概是什么时候、在哪里发生的？记不清可以回复“跳过”。",
    "ask_when_more": "已收到{n}个附件。\n这件事大概是什么时候、在哪里发生的？记不清可以回复“跳过”。",
    "ask_confidential": ("需要为您的身份保密吗？回复“保密”或“不用”。\n"
                         "保密：处理线索的民警也看不到是谁反映的，回复由我转给您（微信本身知道消息是谁发的，所以不叫匿名）。"),
    "bad_confidential": "请回复“保密”或“不用”。",
    "summary": ("请核对您要提交的线索：\n类别：{category}\n情况：{body}\n时间地点：{when_where}\n附件：{attachments}个\n"
                "身份：{identity}\n没问题请回复“确认”；要改请回复“返回”，不想提交请回复“取消”。"),
    "bad_confirm": "请回复“确认”提交，或回复“返回”修改、“取消”退出。",
    "identity_confidential": "保密",
    "identity_open": "不用保密",
    "not_given": "未填写",
    "receipt": ("线索已收到，编号 #{id}，民警会尽快处理。\n您的查询码：{receipt}\n"
                "请把查询码抄下来或截图保存好，它只显示这一次；以后私聊我发“查询 {receipt}”就能看到处理进展和民警的回复。"
                "请不要把查询码发到群里。"),
    "too_many": "您今天已经提交了{limit}条线索，今天先不能再提交了，谢谢您的热心！明天可以继续。紧急情况请直接拨打110。",
    "attachment_too_big": "这个文件有{size}KB，超过了{limit}KB的上限，没能收下。可以发小一点的照片，或者用文字说明。",
    "attachment_missing": "这个文件没有收到内容，请重新发一次，或者用文字说明。",
    "attachment_too_many": "附件最多{n}个，已经够了。请用文字继续说明。",
    "text_please": "这一步请用文字回复，或回复“取消”退出。",
    "empty_text": "请用文字说说发生了什么事。",
    "group_redirect": "线索举报请私聊我，发“举报”两个字就行，我会为您保密。请不要在群里说具体情况。紧急情况请拨打110。",
    "query_unknown": "没有找到这个查询码对应的线索，请核对数字是否抄对。",
    "query_head": "线索 #{id}（{category}），{created} 提交\n状态：{status}",
    "query_no_reply": "民警正在处理，有回复会第一时间转告您。",
    "query_reply_line": "{at} 民警回复：{text}",
    "query_close_line": "{at} 已结案：{text}",
    "query_in_group": "查询码发到群里别人也能看到，以后请私聊我查询。",
    "status_open": "处理中",
    "status_closed": "已结案",
    "relay_reply": "关于您反映的线索 #{id}，民警回复：{text}",
    "relay_close": "您反映的线索 #{id} 已处理完毕：{text}\n谢谢您对社区平安的支持！",
}

OFFICER_TEXTS = {
    "report_line": "线索举报待处理{open}条（其中超过{hours}小时未回复{overdue}条）",
    "notify": "新线索 #{id}【{category}】→ {unit}\n时间：{at}\n摘要：{summary}\n{identity}\n查看全文：私聊我发 /线索 查看 {id}",
    "identity_confidential": "报告人要求保密",
    "identity_open": "报告人未要求保密",
    "list_empty": "没有待处理的线索。",
    "list_head": "待处理线索（{n}条，最早的在前）：",
    "list_line": "#{id}【{category}】{at} {summary}{overdue}",
    "overdue": " ⚠已超{hours}小时未回复",
    "usage": "用法：/线索（列出待处理）、/线索 查看 N、/线索 附件 N、/线索 回复 N 文本、/线索 结案 N 结果",
    "no_such": "没有编号为 #{id} 的线索。",
    "view": ("线索 #{id}【{category}】→ {unit}\n提交：{at}\n状态：{status}\n报告人：{reporter}\n情况：{body}\n"
             "时间地点：{when_where}\n附件：{attachments}个{attachment_hint}"),
    "attachment_hint": "（接收请发 /线索 附件 {id}）",
    "no_attachments": "线索 #{id} 没有附件。",
    "attachments_coming": "线索 #{id} 的{n}个附件马上私聊发给您，请勿转发到群里。",
    "attachments_unreadable": "线索 #{id} 有{n}个附件无法解密（密钥可能换过），没能发出。",
    "reporter_hidden": "保密",
    "replied": "已把回复转给线索 #{id} 的报告人。",
    "closed": "线索 #{id} 已结案，并已告知报告人。",
    "already_closed": "线索 #{id} 已经结案了。",
}

dialog = plugin.dialog("tip")
dialog.reply_source = store.OUTBOX_SOURCE


# ---- shared helpers ----------------------------------------------------------------------------

def _local(ctx: Context, at) -> str:
    return f"{at.astimezone(ctx.app.clock.tz):%m-%d %H:%M}"


def _quota_key(ctx: Context) -> tuple:
    day = ctx.now.astimezone(ctx.app.clock.tz).date()
    return day, ctx.app.vault.keyed_hash(f"tip-quota:{day.isoformat()}:{ctx.sender.id}")


async def _over_limit(ctx: Context) -> bool:
    day, key = _quota_key(ctx)
    limit = ctx.app.config.tips.daily_limit
    if await store.used_today(ctx.session, ctx.app.name, day, key) >= limit:
        await ctx.reply(TEXTS["too_many"].format(limit=limit))
        return True
    return False


def summarise(text: str) -> str:
    """Mask first, then cut: a cut number could otherwise leave its digits unmasked."""
    masked = mask_text(" ".join(text.split()))
    return masked if len(masked) <= 40 else masked[:40] + "…"


def new_receipt() -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(RECEIPT_DIGITS))


def show_receipt(receipt: str) -> str:
    return " ".join(receipt[i:i + 4] for i in range(0, len(receipt), 4))


def _category_of(text: str) -> str | None:
    text = text.strip()
    if text.isdigit() and 1 <= int(text) <= len(CATEGORIES):
        return CATEGORIES[int(text) - 1]
    for category in CATEGORIES:
        if text == category or any(word in text for word in CATEGORY_WORDS[category]):
            return category
    return None


# ---- entry points ------------------------------------------------------------------------------

async def start_tip(ctx: Context) -> None:
    ctx.reply_source = store.OUTBOX_SOURCE
    if await _over_limit(ctx):
        return
    await ctx.start_dialog("tip", "category", {"attachments": []})


@plugin.phrase(r"^\s*(我要|我想)?(举报|提供线索|报线索|线索)", where="private", priority=10)
async def private_tip(ctx: Context, match: re.Match) -> bool:
    await start_tip(ctx)
    return True


def _speaks_to_bot(ctx: Context) -> bool:
    text = ctx.text.strip()
    return ctx.message.mentions_bot or len(text) <= 12 or re.match(r"^(我要|我想)?(举报|线索)", text) is not None


@plugin.phrase(r"举报|线索", where="group", priority=10)
async def group_tip(ctx: Context, match: re.Match) -> bool:
    if not _speaks_to_bot(ctx):
        return False
    await redirect_from_group(ctx)
    return True


async def redirect_from_group(ctx: Context) -> None:
    # No @: the nudge should not point the neighbours at who wants to report.
    await ctx.reply(TEXTS["group_redirect"], mention=False)
    await ctx.count("tip_redirects")


@plugin.intent("tip")
async def tip_intent(ctx: Context, found) -> bool:
    if ctx.is_private:
        await start_tip(ctx)
    else:
        await redirect_from_group(ctx)
    return True


# ---- the dialog ---------------------------------------------------------------------------------

async def ask_category(ctx: Context, data: dict) -> None:
    options = "\n".join(f"{i}. {c}" for i, c in enumerate(CATEGORIES, 1))
    await ctx.reply(TEXTS["ask_category"].format(options=options))


@dialog.state("category", prompt=ask_category, accepts_attachments=True)
async def got_category(ctx: Context, data: dict, text: str) -> str | None:
    if ctx.message.kind != MessageKind.TEXT:
        await ctx.reply(TEXTS["text_please"])
        return "category"
    category = _category_of(text)
    if category is None:
        await ctx.reply(TEXTS["bad_category"])
        return None
    data["category"] = category
    return "what"


async def ask_what(ctx: Context, data: dict) -> None:
    n = len(data.get("attachments", []))
    await ctx.reply(TEXTS["ask_what_more"].format(n=n) if n else TEXTS["ask_what"])


async def take_attachment(ctx: Context, data: dict) -> None:
    """Keep an image or file (encrypted) as a draft attachment; say why when refused."""
    msg = ctx.message
    if msg.kind not in (MessageKind.IMAGE, MessageKind.FILE, MessageKind.VIDEO):
        await ctx.reply(TEXTS["text_please"])
        return
    limit_kb = ctx.app.config.tips.attachment_max_kb
    if msg.attachment is None:
        await ctx.reply(TEXTS["attachment_missing"])
        return
    if len(msg.attachment) > limit_kb * 1024:
        await ctx.reply(TEXTS["attachment_too_big"].format(size=(len(msg.attachment) + 1023) // 1024, limit=limit_kb))
        return
    if len(data.get("attachments", [])) >= MAX_ATTACHMENTS:
        await ctx.reply(TEXTS["attachment_too_many"].format(n=MAX_ATTACHMENTS))
        return
    token = ctx.app.vault.encrypt(base64.b64encode(msg.attachment).decode())
    row = store.TipAttachment(bot=ctx.app.name, kind=msg.kind.value, name=(msg.attachment_name or "")[:128],
                              size=len(msg.attachment), data_enc=token.encode(), created_at=ctx.now)
    ctx.session.add(row)
    await ctx.session.flush()
    data["attachments"] = [*data.get("attachments", []), row.id]


@dialog.state("what", prompt=ask_what, accepts_attachments=True)
async def got_what(ctx: Context, data: dict, text: str) -> str | None:
    if ctx.message.kind != MessageKind.TEXT:
        await take_attachment(ctx, data)
        return "what"
    if not text.strip():
        await ctx.reply(TEXTS["empty_text"])
        return None
    data["body"] = text.strip()
    return "when"


async def ask_when(ctx: Context, data: dict) -> None:
    n = len(data.get("attachments", []))
    await ctx.reply(TEXTS["ask_when_more"].format(n=n) if n and ctx.message.kind != MessageKind.TEXT
                    else TEXTS["ask_when"])


@dialog.state("when", prompt=ask_when, accepts_attachments=True)
async def got_when(ctx: Context, data: dict, text: str) -> str | None:
    if ctx.message.kind != MessageKind.TEXT:
        await take_attachment(ctx, data)
        return "when"
    data["when_where"] = None if text.strip() in SKIP_WORDS else text.strip()
    return "confidential"


async def ask_confidential(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_confidential"])


@dialog.state("confidential", prompt=ask_confidential, accepts_attachments=True)
async def got_confidential(ctx: Context, data: dict, text: str) -> str | None:
    answer = text.strip().rstrip("。！!")
    if answer in YES_CONFIDENTIAL:
        data["confidential"] = True
    elif answer in NO_CONFIDENTIAL:
        data["confidential"] = False
    else:
        await ctx.reply(TEXTS["bad_confidential"])
        return None
    return "confirm"


async def show_summary(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["summary"].format(
        category=data["category"], body=data["body"], when_where=data.get("when_where") or TEXTS["not_given"],
        attachments=len(data.get("attachments", [])),
        identity=TEXTS["identity_confidential"] if data["confidential"] else TEXTS["identity_open"]))


@dialog.state("confirm", prompt=show_summary, accepts_attachments=True)
async def got_confirm(ctx: Context, data: dict, text: str) -> str | None:
    if text.strip().rstrip("。！!") not in CONFIRM_WORDS:
        await ctx.reply(TEXTS["bad_confirm"])
        return None
    if await _over_limit(ctx):
        await store.drop_drafts(ctx.session, ctx.app.name, data.get("attachments", []))
        return END
    await submit(ctx, data)
    return END


async def _drop_drafts(ctx: Context, data: dict) -> None:
    await store.drop_drafts(ctx.session, ctx.app.name, data.get("attachments", []))


dialog.on_cancel = _drop_drafts
dialog.on_timeout = _drop_drafts


# ---- submitting and routing ---------------------------------------------------------------------

async def submit(ctx: Context, data: dict[str, Any]) -> store.Tip:
    vault = ctx.app.vault
    receipt = new_receipt()
    category = data["category"]
    route = ctx.app.config.tips.routes.get(category)
    tip = store.Tip(
        bot=ctx.app.name, category=category, unit=route.unit if route else "",
        body_enc=vault.encrypt(data["body"]),
        when_where_enc=vault.encrypt(data["when_where"]) if data.get("when_where") else None,
        summary=summarise(data["body"]), confidential=data["confidential"],
        reporter_enc=vault.encrypt(ctx.sender.id),
        reporter_name_enc=None if data["confidential"] else vault.encrypt(ctx.message.sender_name or ctx.sender.name),
        receipt_hash=vault.keyed_hash(receipt), status=store.OPEN, created_at=ctx.now,
    )
    ctx.session.add(tip)
    await ctx.session.flush()
    await store.attach(ctx.session, ctx.app.name, data.get("attachments", []), tip.id)
    day, key = _quota_key(ctx)
    await store.use_quota(ctx.session, ctx.app.name, day, key)
    await ctx.count("tips", key=category)
    await ctx.reply(TEXTS["receipt"].format(id=tip.id, receipt=show_receipt(receipt)))
    await route_tip(ctx, tip)
    return tip


async def route_tip(ctx: Context, tip: store.Tip) -> None:
    """The unit's group (when configured) and every officer privately, with a masked summary."""
    route = ctx.app.config.tips.routes.get(tip.category)
    text = OFFICER_TEXTS["notify"].format(
        id=tip.id, category=tip.category, unit=tip.unit or "社区民警", at=_local(ctx, tip.created_at),
        summary=tip.summary,
        identity=OFFICER_TEXTS["identity_confidential"] if tip.confidential else OFFICER_TEXTS["identity_open"])
    if route and route.room:
        group = ctx.app.directory.group_named(route.room)
        if group is not None:
            await ctx.send_to_group(group.id, text, source="tip-notice")
    await ctx.notify_roles(frozenset({"officer"}), text)


# ---- follow-up by receipt ---------------------------------------------------------------------

@plugin.phrase(r"^\s*查询[\s:：]*([\d\s]{16,40})\s*$", priority=20)
async def lookup(ctx: Context, match: re.Match) -> bool:
    receipt = re.sub(r"\s", "", match.group(1))
    if len(receipt) != RECEIPT_DIGITS:
        return False  # another feature's code (a booking ...)
    ctx.reply_source = store.OUTBOX_SOURCE
    tip = await store.by_receipt(ctx.session, ctx.app.vault.keyed_hash(receipt))
    if tip is None:
        await ctx.reply_private(TEXTS["query_unknown"])
        return True
    lines = [TEXTS["query_head"].format(
        id=tip.id, category=tip.category, created=_local(ctx, tip.created_at),
        status=TEXTS["status_closed"] if tip.status == store.CLOSED else TEXTS["status_open"])]
    answers = await store.replies(ctx.session, tip.id)
    for r in answers:
        template = TEXTS["query_close_line"] if r.kind == "close" else TEXTS["query_reply_line"]
        lines.append(template.format(at=_local(ctx, r.at), text=r.text))
    if not answers:
        lines.append(TEXTS["query_no_reply"])
    if not ctx.is_private:
        lines.append(TEXTS["query_in_group"])
    # Always privately: in a group nothing is said at all.
    await ctx.reply_private("\n".join(lines))
    return True


# ---- officers -------------------------------------------------------------------------------------

@plugin.command("线索", roles=STAFF, where="private", summary="线索举报：列出、查看、收附件、回复、结案",
                usage="[查看 N | 附件 N | 回复 N 文本 | 结案 N 结果]")
async def tips_command(ctx: Context) -> None:
    if not ctx.args:
        await list_open(ctx)
        return
    verb, rest = ctx.args[0], ctx.rest[len(ctx.args[0]):].strip()
    number, _, text = rest.partition(" ")
    number = number.lstrip("#＃")
    needs_text = verb in ("回复", "结案")
    if verb not in ("查看", "附件", "回复", "结案") or not number.isdigit() or (needs_text and not text.strip()):
        await ctx.reply(OFFICER_TEXTS["usage"])
        ctx.outcome = "refused: usage"
        return
    tip = await store.get(ctx.session, ctx.app.name, int(number))
    if tip is None:
        await ctx.reply(OFFICER_TEXTS["no_such"].format(id=number))
        ctx.outcome = "refused: no such tip"
        return
    if verb == "查看":
        await view(ctx, tip)
    elif verb == "附件":
        await send_attachments(ctx, tip)
    elif verb == "回复":
        await relay(ctx, tip, text.strip())
    else:
        await close(ctx, tip, text.strip())


async def list_open(ctx: Context) -> None:
    rows = await store.open_tips(ctx.session, ctx.app.name, MAX_LISTED)
    if not rows:
        await ctx.reply(OFFICER_TEXTS["list_empty"])
        return
    hours = ctx.app.config.tips.overdue_hours
    lines = [OFFICER_TEXTS["list_head"].format(n=len(rows))]
    for t in rows:
        overdue = t.first_reply_at is None and t.created_at <= ctx.now - timedelta(hours=hours)
        lines.append(OFFICER_TEXTS["list_line"].format(
            id=t.id, category=t.category, at=_local(ctx, t.created_at), summary=t.summary,
            overdue=OFFICER_TEXTS["overdue"].format(hours=hours) if overdue else ""))
    await ctx.reply("\n".join(lines))


async def view(ctx: Context, tip: store.Tip) -> None:
    ctx.reply_source = store.OUTBOX_SOURCE  # the full text must not stay behind in the outbox
    vault = ctx.app.vault
    reporter = OFFICER_TEXTS["reporter_hidden"] if tip.confidential or not tip.reporter_name_enc \
        else vault.decrypt(tip.reporter_name_enc)
    attachments = await store.attachment_count(ctx.session, tip.id)
    await ctx.reply(OFFICER_TEXTS["view"].format(
        id=tip.id, category=tip.category, unit=tip.unit or "社区民警", at=_local(ctx, tip.created_at),
        status=TEXTS["status_closed"] if tip.status == store.CLOSED else TEXTS["status_open"],
        reporter=reporter, body=vault.decrypt(tip.body_enc),
        when_where=vault.decrypt(tip.when_where_enc) if tip.when_where_enc else TEXTS["not_given"],
        attachments=attachments,
        attachment_hint=OFFICER_TEXTS["attachment_hint"].format(id=tip.id) if attachments else ""))
    # Reading a tip's full text is recorded on its own line, besides the command's audit row.
    _audit_reading(ctx, "线索查看", tip)


def _audit_reading(ctx: Context, what: str, tip: store.Tip, outcome: str = "ok") -> None:
    ctx.session.add(AuditEntry(bot=ctx.app.name, at=ctx.now, actor_id=ctx.sender.id, actor_role=ctx.role,
                               room_id=ctx.message.room_id, command=what, args=f"#{tip.id}", outcome=outcome))


async def send_attachments(ctx: Context, tip: store.Tip) -> None:
    """Each attachment, decrypted into a private temporary file, to the asking officer's private chat."""
    rows = await store.attachments_of(ctx.session, tip.id)
    if not rows:
        await ctx.reply(OFFICER_TEXTS["no_attachments"].format(id=tip.id))
        ctx.outcome = "refused: no attachments"
        return
    opened: list[tuple[store.TipAttachment, bytes]] = []
    for row in rows:
        try:
            opened.append((row, base64.b64decode(ctx.app.vault.decrypt(row.data_enc.decode()))))
        except (VaultError, ValueError):
            continue
    ctx.outcome = f"sent {len(opened)} of {len(rows)} attachments"
    _audit_reading(ctx, "线索附件", tip, ctx.outcome)
    if len(opened) < len(rows):
        await ctx.reply(OFFICER_TEXTS["attachments_unreadable"].format(id=tip.id, n=len(rows) - len(opened)))
    if not opened:
        return
    await ctx.reply(OFFICER_TEXTS["attachments_coming"].format(id=tip.id, n=len(opened)))
    await sweep_files(ctx.app, ctx.session)
    folder = Path(tempfile.mkdtemp(dir=_attachment_root(ctx.app)))
    for n, (row, data) in enumerate(opened, 1):
        path = folder / f"线索{tip.id}-附件{n}{_suffix(row)}"
        _write_private(path, data)
        out = Outgoing(None, ctx.sender.id, str(path), kind="image" if row.kind == "image" else "file")
        await ctx.app.outbox.enqueue(ctx.session, out, source=store.OUTBOX_SOURCE)


def _suffix(row: store.TipAttachment) -> str:
    """The sent file keeps only the extension of the reporter's file name: the name may say who they are."""
    suffix = Path(row.name).suffix
    return suffix.lower() if SAFE_SUFFIX.match(suffix) else DEFAULT_SUFFIX.get(row.kind, "")


def _attachment_root(app) -> Path:
    root = ATTACHMENT_DIR / app.name
    ATTACHMENT_DIR.mkdir(mode=0o700, exist_ok=True)
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


async def sweep_files(app, session) -> None:
    """Delete this bot's decrypted files no outbox row is waiting to send (left by a crash, a
    rollback or a message given up on), and the folders they leave empty."""
    root = ATTACHMENT_DIR / app.name
    if not root.is_dir():
        return
    waiting = await store.files_waiting(session, app.name)
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if str(path) not in waiting:
                path.unlink(missing_ok=True)
        if not any(folder.iterdir()):
            folder.rmdir()


async def _tell_reporter(ctx: Context, tip: store.Tip, text: str) -> None:
    reporter = ctx.app.vault.decrypt(tip.reporter_enc)
    await ctx.send_to_contact(reporter, text, source=store.OUTBOX_SOURCE)


async def relay(ctx: Context, tip: store.Tip, text: str) -> None:
    ctx.session.add(store.TipReply(tip_id=tip.id, at=ctx.now, kind="reply", text=text))
    tip.first_reply_at = tip.first_reply_at or ctx.now
    await _tell_reporter(ctx, tip, TEXTS["relay_reply"].format(id=tip.id, text=text))
    await ctx.reply(OFFICER_TEXTS["replied"].format(id=tip.id))


async def close(ctx: Context, tip: store.Tip, result: str) -> None:
    if tip.status == store.CLOSED:
        await ctx.reply(OFFICER_TEXTS["already_closed"].format(id=tip.id))
        ctx.outcome = "refused: already closed"
        return
    ctx.session.add(store.TipReply(tip_id=tip.id, at=ctx.now, kind="close", text=result))
    tip.status, tip.closed_at, tip.result = store.CLOSED, ctx.now, result
    tip.first_reply_at = tip.first_reply_at or ctx.now
    await _tell_reporter(ctx, tip, TEXTS["relay_close"].format(id=tip.id, text=result))
    await ctx.reply(OFFICER_TEXTS["closed"].format(id=tip.id))


# ---- start-up -----------------------------------------------------------------------------------

plugin.confidential_source(store.OUTBOX_SOURCE)


@plugin.report_line("tips")
async def open_tips_line(app, session, period) -> list[str]:
    """For the weekly report: how many tips wait, and how many of them are overdue; no names."""
    waiting = await store.open_count(session, app.name)
    if not waiting:
        return []
    overdue = await store.overdue_count(session, app.name, app.clock.now(), app.config.tips.overdue_hours)
    return [OFFICER_TEXTS["report_line"].format(open=waiting, overdue=overdue, hours=app.config.tips.overdue_hours)]


@plugin.on_start
async def setup(app) -> None:
    async with app.sessions.begin() as session:
        # Rows left "uncertain" by a crash, and drafts of dialogs nobody came back to.
        await store.forget_recipients(session, app.name)
        await store.drop_drafts(session, app.name, older_than=app.clock.now() - timedelta(days=1))
        await sweep_files(app, session)
