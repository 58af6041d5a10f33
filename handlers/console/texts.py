"""Every word the console shows, in one place (the officer reviews them here)."""

TITLE = "警民群助手 · 警务室工作台"
NAV = [("overview", "概览"), ("questions", "咨询和纠纷"), ("tips", "线索"), ("bookings", "预约"),
       ("schedules", "推送计划"), ("groups", "群"), ("registers", "登记簿"), ("audit", "操作记录")]
# The chat command whose listing each page shows: a role that may not run it does not see the page
# (the overview holds counts only, no one's name: every account sees it, the district one too).
PAGE_NEEDS = {"questions": ("咨询", None), "tips": ("线索", None), "bookings": ("预约", None),
              "schedules": ("计划", None), "groups": ("群", None), "registers": ("预约", "导出"),
              "audit": ("审计", None)}
METRICS = [("messages", "群消息"), ("consultations", "业务咨询"), ("suggestions", "意见建议"),
           ("tips", "线索举报"), ("appointments_booked", "预约"), ("disputes", "矛盾纠纷"),
           ("emergencies", "紧急求助"), ("scam_warnings", "反诈提醒")]
TEXTS = {
    "login_title": "登录", "name": "账号", "password": "密码", "login": "登录", "logout": "退出",
    "bad_password": "账号或密码不对，请再试一次。",
    "locked": "密码连续输错太多次，账号已暂时锁定，请 {minutes} 分钟后再试。",
    "district_note": "分局账号：目前还没有接入分局汇总，这里看到的是本机器人（{bot}）的统计，只能查看，不能操作。",
    "waiting": "等您处理", "open_questions": "待回复的咨询", "open_suggestions": "待回复的建议",
    "open_tips": "未结的线索", "overdue_tips": "超时未回复的线索", "today_bookings": "今天的预约",
    "this_week": "本周", "last_week": "上周", "change": "变化",
    "answer": "回复", "answer_placeholder": "写给居民的答复", "sent": "已发送",
    "none_open": "没有待回复的{what}。",
    "no_right": "您的账号不能做这件事（和微信里的命令权限一样）。",
    "empty_answer": "答复不能为空。",
}
