"""Which groups a push target names: a group's name, a category (code or Chinese name) or 全部.

Pure: reads the directory's groups, nothing else. Uncategorised groups get no pushes.
"""

from __future__ import annotations

from bot.config import CATEGORIES
from bot.directory import Directory, Group
from handlers.pushes.texts import Refusal, categories_text

ALL = ("全部", "所有群", "all")
CATEGORY_BY_NAME = {name: code for code, name in CATEGORIES.items()}
DEFAULT_TARGET = "resident"  # a push now without a target goes to the resident groups


def resolve_target(directory: Directory, target: str) -> list[Group] | None:
    """The groups a target names (None: it names nothing; []: none of them has a category)."""
    target = target.strip()
    categorised = sorted((g for g in directory.groups.values() if g.category), key=lambda g: g.name)
    if target in ALL:
        return categorised
    code = target if target in CATEGORIES else CATEGORY_BY_NAME.get(target)
    if code:
        return [g for g in categorised if g.category == code]
    group = directory.group_named(target)
    if group is None:
        return None
    return [group] if group.category else []


def target_groups(directory: Directory, target: str) -> list[Group]:
    """The groups a push to `target` reaches; a Refusal when it names none or none is categorised."""
    groups = resolve_target(directory, target)
    if groups is None:
        raise Refusal("bad_target", target=target, categories=categories_text(), groups=groups_text(directory))
    if not groups:
        raise Refusal("no_groups", target=target)
    return groups


def looks_like_target(word: str) -> bool:
    """"5号楼群", "全部": a word an officer writes as a target, known or not (text rarely ends so)."""
    return word in ALL or (len(word) >= 2 and word.endswith("群"))


def split_trailing_target(directory: Directory, rest: str) -> tuple[str, str]:
    """"停水通知 居民群" -> ("停水通知", "居民群"); without a target at the end, the default.
    A last word that reads as a group ("5号楼群") but names none is a Refusal listing the valid
    ones: posting to 居民群 with the group's name in the text is not what the officer asked."""
    head, _, last = rest.rstrip().rpartition(" ")
    if head.strip() and resolve_target(directory, last) is not None:
        return head.strip(), last
    if head.strip() and looks_like_target(last):
        raise Refusal("bad_target", target=last, categories=categories_text(), groups=groups_text(directory))
    return rest.strip(), DEFAULT_TARGET


def groups_text(directory: Directory) -> str:
    """The categorised groups' names, the targets an officer may write besides the categories."""
    names = sorted(g.name for g in directory.groups.values() if g.category)
    return "、".join(names) if names else "（还没有分好类的群）"
