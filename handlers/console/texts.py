"""Every word the console shows, in one place (the officer reviews them here)."""

TITLE = "警民群助手 · 警务室工作台"
NAV = [("overview", "概览"), ("district", "全区统计"), ("questions", "咨询和纠纷"), ("tips", "线索"), ("bookings", "预约"),
       ("schedules", "推送计划"), ("guide", "服务指南"), ("groups", "群"), ("registers", "登记簿"), ("audit", "操作记录")]
# The chat command whose listing each page shows: a role that may not run it does not see the page
# (the overview holds counts only, no one's name: every account sees it, the district one too).
PAGE_NEEDS = {"questions": ("咨询", None), "tips": ("线索", None), "bookings": ("预约", None),
              "schedules": ("计划", None), "guide": ("指南", None), "groups": ("群", None), "registers": ("预约", "导出"),
              "audit": ("审计", None)}
DISTRICT_PAGES = ("district",)  # for district accounts only: no chat command is theirs
METRICS = [("messages", "群消息"), ("consultations", "业务咨询"), ("suggestions", "意见建议"),
           ("tips", "线索举报"), ("appointments_booked", "预约"), ("disputes", "矛盾纠纷"),
           ("emergencies", "紧急求助"), ("scam_warnings", "反诈提醒")]
TEXTS = {
    "login_title": "登录", "name": "账号", "password": "密码", "login": "登录", "logout": "退出",
    "bad_password": "账号或密码不对，请再试一次。",
    "locked": "密码连续输错太多次，账号已暂时锁定，请 {minutes} 分钟后再试。",
    "district_note": "分局账号：正在查看 {bot} 的统计，只能查看，不能操作。",
    "switch_bot": "查看", "switch": "切换", "unknown_bot": "没有这个机器人：{bot}。",
    "waiting": "等您处理", "open_questions": "待回复的咨询", "open_suggestions": "待回复的建议",
    "open_tips": "未结的线索", "overdue_tips": "超时未回复的线索", "today_bookings": "今天的预约",
    "this_week": "本周", "last_week": "上周", "change": "变化",
    "answer": "回复", "answer_placeholder": "写给居民的答复", "sent": "已发送",
    "none_open": "没有待回复的{what}。",
    "no_right": "您的账号不能做这件事（和微信里的命令权限一样）。",
    "empty_answer": "答复不能为空。",
}

GUIDE_TEXTS = {
    "sources": {"builtin": "内置", "config": "配置文件", "officer": "民警添加"},
    "search": "搜索", "search_placeholder": "关键词，或居民会怎么问", "show_all": "看全部",
    "all": "共 {n} 条。点标题看全文、修改回答、加问法。",
    "found": "“{query}”：找到 {n} 条，最接近的排在前面。",
    "none_found": "没有找到相关的指南。可以在下面新增一条。",
    "would_answer": "居民这样问会用这条回答", "edited": "已改过",
    "removed_head": "已删除的指南（这类问题现在转给民警）", "restore": "恢复",
    "add_head": "新增一条指南", "add_link": "＋ 新增一条", "title": "标题", "title_placeholder": "如：结婚登记",
    "questions": "居民的问法", "questions_placeholder": "一行一个，如：派出所能办结婚登记吗",
    "answer": "回答", "answer_placeholder": "居民问到时，机器人发给他的话", "add": "新增",
    "add_missing": "标题、问法和回答都要写。", "no_questions": "请至少写一个问法。",
    "back": "服务指南", "no_entry": "没有编号为 {id} 的指南。",
    "is_removed": "这条指南已删除，居民问到这类问题会转给民警。",
    "resident_reads": "居民收到的回答", "edit_answer": "修改回答", "save_answer": "保存回答",
    "general_note": "这是内置的一般办法，发出时会加一句“具体以窗口为准”；改成本社区的说法后照原样发出。",
    "add_questions": "加上居民的问法", "save_questions": "加上问法",
    "unask": "去掉", "unask_title": "去掉这个问法（民警加上的才能去掉）",
    "restore_edit": "撤销修改，恢复原样", "delete": "删除这条指南",
}

DISTRICT_TEXTS = {
    "head": "全区统计", "bot": "机器人", "total": "全区合计",
    "figures": {"messages": "群消息", "consultations": "业务咨询", "suggestions": "意见建议", "tips": "线索举报",
                "bookings": "预约"},
    "weeks": "本周 {this}，上周 {last}。每格：本周 / 上周。",
    "this_bot": "（本机）", "look": "看这个",
    "none": "还没有任何机器人的统计。",
}
