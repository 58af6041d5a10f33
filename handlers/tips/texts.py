"""Every sentence of the tips feature: what residents are told (TEXTS), what officers are told
(OFFICER_TEXTS). One place, so an officer can review all of them."""

from __future__ import annotations

TEXTS = {
    "ask_category": ("感谢您愿意向警方提供线索。请问是哪一类？回复数字就行：\n{options}\n"
                     "随时回复“取消”可以退出，回复“返回”回到上一步。"),
    "bad_category": "没看懂您选的类别，请回复 1 到 5 中的一个数字。",
    "help_category": "请回复一个数字，比如是骗钱的事就回复“1”，说不准就回复“5”（其他）。",
    "help_confidential": "要保密就回复“保密”，不用保密就回复“不用”。",
    "help_confirm": "请回复“确认”两个字，线索就提交了；不想提交回复“取消”。",
    "parked": "您上次的线索还没提交，回复“继续”接着填（24小时内有效）；不需要就不用管它。",
    "query_how": "查询线索进展请发“查询”加上查询码，例如“查询 1234 5678 9012 3456”。查询码是提交线索时给您的16位数字。",
    "query_bad_length": "查询码是16位数字，您发的是{n}位，请核对后再发，例如“查询 1234 5678 9012 3456”。",
    "ask_what": "请说说发生了什么事。可以打字，也可以发照片或文件。",
    "ask_what_more": "已收到{n}个附件。请再用文字说说发生了什么事（还可以继续发照片）。",
    "ask_when": "这件事大概是什么时候、在哪里发生的？记不清可以回复“跳过”。",
    "ask_when_more": "已收到{n}个附件。\n这件事大概是什么时候、在哪里发生的？记不清可以回复“跳过”。",
    "ask_confidential": ("需要为您的身份保密吗？回复“保密”（或“匿名”）或“不用”。\n"
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
    "attachment_failed": "不好意思，图片或文件没能收到，请再发一次，或者用文字说明。",
    "attachment_too_many": "附件最多{n}个，已经够了。请用文字继续说明。",
    "text_please": "这一步请用文字回复，或回复“取消”退出。",
    "empty_text": "请用文字说说发生了什么事。",
    "group_redirect": "线索举报请私聊我，发“举报”两个字就行，我会为您保密。请不要在群里说具体情况。紧急情况请拨打110。",
    "query_unknown": "没有找到这个查询码对应的线索，请核对数字是否抄对。",
    "query_head": "线索 #{id}（{category}），{created} 提交\n状态：{status}",
    "query_no_reply": "民警正在处理，有回复会第一时间转告您。",
    "query_reply_line": "{at} 民警回复：{text}",
    "query_close_line": "{at} 已结案：{text}",
    "receipt_revoked_group": "请勿在群里发查询码，已作废。",
    "receipt_renewed": ("您反映的线索 #{id} 的查询码被发到了群里，为了保密，旧的查询码已经作废。\n新的查询码：{receipt}\n"
                        "请抄下来或截图保存好，只在私聊里发“查询 {receipt}”查看进展，不要发到群里。"),
    "query_in_group": "查询码发到群里别人也能看到，以后请私聊我查询。",
    "status_open": "处理中",
    "status_closed": "已结案",
    "relay_reply": "关于您反映的线索 #{id}，民警回复：{text}",
    "relay_close": "您反映的线索 #{id} 已处理完毕：{text}\n谢谢您对社区平安的支持！",
}

OFFICER_TEXTS = {
    "report_line": "待处理线索{open}条，其中超期{overdue}条（超过{hours}小时未回复）",
    "notify": "新线索 #{id}【{category}】→ {unit}\n时间：{at}\n摘要：{summary}\n{identity}\n查看全文：私聊我发 /线索 查看 {id}",
    # The unit's group hears that there is a tip, never what it says (a group has more than police in it).
    "group_notify": "新线索 #{id}【{category}】→ {unit}，{at}。内容不在群里发，请民警私聊我发 /线索 查看 {id}",
    "routed": "{unit}（已转{bot_label}：{officers}）",
    "routed_nobody": "{unit}（没能转给{bot_label}：那边还没有登记{officers}，请电话联系）",
    "unit_bot_label": "{bot} 机器人",
    "sealed": "（{bot} 机器人用另一把密钥加密，这里打不开：请让各机器人用同一个 JINGMIN_SECRET_KEY）",
    "unit_notify": ("新线索 #{id}【{category}】来自{community} → {unit}\n时间：{at}\n摘要：{summary}\n{identity}\n"
                    "查看全文：私聊我发 /线索 查看 {id}\n回复报告人：/线索 回复 {id} 文字（由我转告，不显示报告人是谁）"),
    "unit_closed": "线索 #{id}【{category}】已由{unit}结案：{text}",
    "community_closed": "转给你们的线索 #{id}【{category}】社区民警已结案：{text}。这条不用再处理了。",
    "other_key": ("线索 #{id} 是 {bot} 机器人收到的，这边打不开（密钥不同）。"
                  "同一个分局的机器人要设置同一个 JINGMIN_SECRET_KEY。"),
    "from_bot": "（来自 {bot} 机器人）",
    "identity_confidential": "报告人要求保密",
    "identity_open": "报告人未要求保密",
    "list_empty": "没有待处理的线索。",
    "list_head": "待处理线索（{n}条，最早的在前）：",
    "list_line": "#{id}【{category}】{at} {summary}{overdue}",
    "overdue": " ⚠已超{hours}小时未回复",
    "usage": "用法：{lines}",
    "no_such": "没有编号为 #{id} 的线索。",
    "view": ("线索 #{id}【{category}】→ {unit}\n提交：{at}\n状态：{status}\n报告人：{reporter}\n情况：{body}\n"
             "时间地点：{when_where}\n附件：{attachments}个{attachment_hint}"),
    "attachment_hint": "（接收请发 /线索 附件 {id}）",
    "no_attachments": "线索 #{id} 没有附件。",
    "attachments_coming": "线索 #{id} 的{n}个附件马上私聊发给您，请勿转发到群里。",
    "attachments_unreadable": "线索 #{id} 有{n}个附件无法解密（密钥可能换过），没能发出。",
    "reporter_hidden": "保密",
    "receipt_revoked": "线索 #{id} 的查询码被人发到了“{group}”，已经作废，并已私聊给报告人发了新的查询码。",
    "replied": "已把回复转给线索 #{id} 的报告人。",
    "closed": "线索 #{id} 已结案，并已告知报告人。",
    "already_closed": "线索 #{id} 已经结案了。",
}

# Cells of the 接待服务登记簿 rows of tips (handlers/tips/register.py): never who, for a confidential one.
REGISTER_TEXTS = {
    "category": "线索举报",
    "open": "待处理",
    "replied": "已回复，处理中",
    "closed": "已结案",
    "source": "私聊",
    "item_open": "线索 #{id}（{category}）",
    "person_open": "未要求保密，见 /线索 查看 {id}",
}
