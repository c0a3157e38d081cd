# Writes the bytes of IN as a NUL-terminated C string `const char SYMBOL[]` to OUT.
file(READ ${IN} _hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\nconst char ${SYMBOL}[] = {${_bytes} 0x00};\n")
