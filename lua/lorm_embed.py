#!/usr/bin/env python3
"""Turn a Lua source file into a C header holding it as a string constant.

    lorm_embed.py INPUT OUTPUT NAME
"""
import sys

src, out, name = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
with open(out, "w", encoding="utf-8") as f:
    f.write("/* generated from %s: do not edit */\n" % src.split("/")[-1])
    f.write("static const char %s[] =\n" % name)
    for line in text.splitlines(True):
        esc = (line.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\t", "\\t"))
        f.write('    "%s"\n' % esc)
    f.write("    ;\n")
