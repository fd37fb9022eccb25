# Writes a C++ source defining `${NAME}` (a std::string_view in namespace
# ${NAMESPACE}) with the bytes of the file IN, to OUT. Run at build time
# (cmake -P), so the file stays the one source of truth and a change to it
# rebuilds the binary. The bytes go in as a char array: string literals this
# long are beyond what -Wpedantic accepts.
#
#   cmake -DIN=docs/openapi.json -DOUT=openapi_doc.cpp -DNAME=openapi_json
#         -DNAMESPACE=strata::admin -P cmake/embed_file.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# One line per 32 bytes keeps the generated file readable by tools.
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}"
  "// Generated from ${IN} by cmake/embed_file.cmake; do not edit.\n"
  "#include <string_view>\n"
  "namespace ${NAMESPACE} {\n"
  "namespace {\n"
  "constexpr char kBytes[] = {\n${bytes}'\\0'};\n"
  "}  // namespace\n"
  "extern const std::string_view ${NAME};\n"
  "const std::string_view ${NAME}(kBytes, ${size});\n"
  "}  // namespace ${NAMESPACE}\n")
