"""Every sentence the guide and the consultations can say, for officers to review in one place."""

TEXTS = {
    "answer": "{answer}",
    "forwarded": "您的问题我一时答不上来，已转给社区民警，民警看到后会在这里回复您。",
    "officer_notice": "居民咨询 #{id}（{where}，{name}）：{text}\n回复请发：/咨询 回复 {id} 您的答复",
    "list_empty": "目前没有待回复的咨询。",
    "list_head": "待回复的咨询（共{n}条）：",
    "to_resident": "关于您问的“{text}”，社区民警回复：{answer}",
    "done": "已把答复发给{name}（咨询 #{id}）。",
    "not_found": "没有编号为 {id} 的咨询。发送 /咨询 查看待回复的咨询。",
    "already": "咨询 #{id} 已经回复过了。",
    "usage": "回复请发：/咨询 回复 编号 答复内容",
}

REGISTER_TEXTS = {"category": "业务咨询", "guide": "自动解答", "open": "已转民警", "answered": "民警已答复"}

# Filled into built-in answers (see library.render).
LOCAL = {
    "general": "\n（以上是一般办法，具体以窗口为准。）",
    "post": "社区警务室",
    "station": "辖区派出所",
    "hours_unknown": "一般是工作日上班时间，去之前请先问一下社区民警",
    "phone": "电话：{phone}。",
}

# /指南: what officers see (one line each where possible).
COMMAND_TEXTS = {
    "summary": "查看、搜索、新增、修改服务指南",
    "list_head": "服务指南共 {n} 条（内置 {builtin}，本地 {local}）。发“/指南 搜索 关键词”查找，“/指南 查看 编号”看全文。",
    "list_line": "{id}：{title}",
    "search_head": "“{query}”最接近的指南：",
    "search_line": "{id}：{title}（相似度 {score:.2f}{mark}）",
    "would_answer": "，会自动回答",
    "search_none": "没有找到相关的指南。",
    "show": "{id}：{title}\n来源：{source}\n问法：{questions}\n回答：{answer}",
    "sources": {"builtin": "内置", "config": "配置文件", "officer": "民警添加"},
    "added": "已新增指南 {id}：{title}。居民再问“{question}”就会自动回答。",
    "updated": "已修改指南 {id}：{title}。",
    "questions_added": "已给指南 {id} 加上 {n} 个问法。",
    "question_removed": "已从指南 {id} 去掉问法“{question}”。",
    "question_not_local": "指南 {id} 没有民警加上的问法“{question}”（内置和配置文件里的问法不能去掉）。",
    "last_question": "这是指南 {id} 唯一的问法，不能去掉；不要这条指南请发“/指南 删除 {id}”。",
    "deleted": "已删除指南 {id}：{title}。",
    "restored": "指南 {id} 已恢复为原来的内容。",
    "not_found": "没有编号为 {id} 的指南。发“/指南 搜索 关键词”查找编号。",
    "nothing_to_restore": "指南 {id} 没有被修改过。",
    "bad_add": "格式：/指南 新增 标题 | 问法1，问法2 | 回答（用竖线“|”隔开三部分）",
    "too_long": "{what}太长了（最多 {n} 个字）。",
}
