"""Appointments (预约办理): residents book a service slot in private chat; officers run the day.

The Plugin object and its config; the package's modules register on it:
  dialog.py    预约 → service → day → slot → name → mobile → summary → confirm
  resident.py  预约, 我的预约, 取消预约 码, 改约 码
  officer.py   /预约 [今天|明天|日期], /预约 完成|办结|爽约 码, /预约 关闭 日期 [原因], /预约 开放 日期
  export.py    /预约 导出 起 止, and the 接待服务登记簿 rows
  reminders.py the evening before and an hour before
  slots.py, parse.py, codes.py, texts.py: the pure parts (no bot, no database); bookings.py: the rows
"""

from __future__ import annotations

from bot.plugin import Plugin
from handlers.appointments.config import AppointmentSettings, ServiceConfig, check_services

plugin = Plugin("appointments", config=AppointmentSettings, order=50)
plugin.config_section("services", list[ServiceConfig], [])
plugin.validator(check_services)
# `/预约 电话 码` replies with a whole phone number: the outbox forgets that text once sent.
PHONE_SOURCE = "appointments-phone"
plugin.confidential_source(PHONE_SOURCE)
plugin.menu_item("私聊我说“预约”：预约到警务室办理居住证、身份证等业务")
plugin.menu_item("私聊我说“我的预约”：查看、取消或改约")
