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

Modules: texts (every sentence), receipts (the pure part), dialog (reporting in private),
resident (phrases, 查询, the tip intent), officer (/线索), attachments (files for officers),
plugin (the Plugin object, report line, start-up), register (its rows of the 接待服务登记簿).
"""

# Importing the package registers everything on the plugin.
from handlers.tips import dialog, officer, plugin, register, resident  # noqa: F401
