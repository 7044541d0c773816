"""公租房摇号复核脚本 (lottery replay)：任何人都可以用它独立重算摇号顺序。

用法（只需 Python 3.8 及以上，无需安装其他软件）：
    python3 replay_lottery.py lottery.json
    python3 replay_lottery.py - < lottery.json      （"-" 表示从标准输入读取）

lottery.json 的字段：
    participants         参与者公开编号列表，按事先公布（承诺）的顺序排列
    seeds                公开随机数，每组是一个整数列表（例如某期开奖号码）
    order                公布的摇号结果，先抽中的在前
    algorithm            必须是 "RFC3797"
    participants_sha256  名单的 SHA-256：各编号以换行符连接（末尾不加换行），按 UTF-8 计算

本脚本检查三件事：算法名称；名单与 participants_sha256 是否相符；按 IETF RFC 3797 第 4 节
（A Suggested Precise Algorithm）重算的顺序与 order 是否完全相同。它先打印键串 (key string)
和重算的顺序，全部相符时打印"一致 (MATCH)"并以 0 退出，否则说明哪里不一致并以 1 退出。

RFC 3797 的做法：每组随机数从小到大排序，每个数写成不带前导零的十进制并加 "."，每组以 "/"
结尾，依次连接成键串；第 i 次抽取（i 从 0 开始）计算 MD5(两字节大端 i + 键串 + 两字节大端 i)，
把 16 字节结果当作大端无符号整数除以剩余人数，余数（从 0 数）就是被抽中者在剩余名单中的位置。
"""

import hashlib
import json
import sys
from pathlib import Path


def key_string(seeds):
    if not isinstance(seeds, list) or not seeds:
        raise ValueError("seeds 至少需要一组随机数")
    parts = []
    for number, source in enumerate(seeds, start=1):
        # type() rather than isinstance(): true and false are not lottery numbers.
        if not isinstance(source, list) or not all(type(v) is int and v >= 0 for v in source):
            raise ValueError(f"第 {number} 组随机数：应为非负整数的列表，收到 {source!r}")
        if not source:
            raise ValueError(f"第 {number} 组随机数：不能为空")
        parts.append("".join(f"{value}." for value in sorted(source)) + "/")
    return "".join(parts)


def draw_order(participants, key):
    if len(participants) > 0xFFFF:
        raise ValueError("RFC 3797 最多支持 65535 名参与者")
    remaining, order = list(participants), []
    for index in range(len(participants)):
        counter = index.to_bytes(2, "big")
        digest = hashlib.md5(counter + key.encode("ascii") + counter).digest()
        order.append(remaining.pop(int.from_bytes(digest, "big") % len(remaining)))
    return order


def main(argv):
    if len(argv) != 2:
        print("用法 (usage): python3 replay_lottery.py lottery.json   （或用 - 表示标准输入）")
        return 2
    try:
        raw = sys.stdin.buffer.read() if argv[1] == "-" else Path(argv[1]).read_bytes()
        data = json.loads(raw.decode("utf-8-sig"))  # "-sig": a byte order mark is tolerated
        participants, order = data["participants"], data["order"]
        lists = isinstance(participants, list) and isinstance(order, list)
        if not lists or not all(isinstance(p, str) for p in participants + order):
            raise ValueError("participants 和 order 必须是字符串列表")
        if len(set(participants)) != len(participants):
            raise ValueError("participants 中有重复编号")
        key = key_string(data["seeds"])
        recomputed = draw_order(participants, key)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"无法复核 (cannot replay)：{type(error).__name__}: {error}")
        return 1
    print(f"键串 (key string)：{key}")
    print(f"重算的顺序 (recomputed order)，共 {len(recomputed)} 人：")
    for place, participant in enumerate(recomputed, start=1):
        print(f"{place:6d}. {participant}")
    problems = []
    if data.get("algorithm") != "RFC3797":
        problems.append(f"算法应为 RFC3797，文件中为 {data.get('algorithm')!r}")
    digest = hashlib.sha256("\n".join(participants).encode("utf-8")).hexdigest()
    if digest != str(data.get("participants_sha256")).lower():
        problems.append(f"名单的 SHA-256 为 {digest}，与文件中的 participants_sha256 不符")
    for place in range(min(len(order), len(recomputed))):
        if order[place] != recomputed[place]:
            problems.append(f"第 {place + 1} 位应为 {recomputed[place]}，公布为 {order[place]}")
            break
    if len(order) != len(recomputed):
        problems.append(f"重算 {len(recomputed)} 人，公布的顺序有 {len(order)} 人")
    for problem in problems:
        print(f"不一致 (MISMATCH)：{problem}")
    if not problems:
        print("一致 (MATCH)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
