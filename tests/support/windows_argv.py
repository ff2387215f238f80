"""How the Microsoft C runtime splits a command line into argv: the oracle the Run-key tests
hold `subprocess.list2cmdline` to (it runs on any OS, so the quoting is checked off Windows)."""

from __future__ import annotations


def split_command_line(line: str) -> list[str]:
    """Split a command line the way the Microsoft C runtime builds argv.

    The program name is special: it runs to the next quote if it starts with one, else to the
    next space or tab, and backslashes in it are plain characters. In later arguments, 2n
    backslashes before a quote make n backslashes and the quote toggles quoting; 2n+1 make n
    backslashes and a literal quote; and `""` inside quotes is a literal quote.
    """
    args: list[str] = []
    i, n = 0, len(line)
    while i < n and line[i] in " \t":
        i += 1
    if i >= n:
        return args
    if line[i] == '"':
        end = line.find('"', i + 1)
        end = n if end < 0 else end
        args.append(line[i + 1 : end])
        i = end + 1
    else:
        start = i
        while i < n and line[i] not in " \t":
            i += 1
        args.append(line[start:i])
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return args
        current: list[str] = []
        quoted = False
        while i < n:
            ch = line[i]
            if ch == "\\":
                start = i
                while i < n and line[i] == "\\":
                    i += 1
                count = i - start
                if i < n and line[i] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')
                        i += 1
                    continue
                current.append("\\" * count)
                continue
            if ch == '"':
                if quoted and i + 1 < n and line[i + 1] == '"':
                    current.append('"')
                    i += 2
                    continue
                quoted = not quoted
                i += 1
                continue
            if ch in " \t" and not quoted:
                break
            current.append(ch)
            i += 1
        args.append("".join(current))
