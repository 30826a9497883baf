# Writes OUT, a C++ source holding the dashboard's files from DIR as raw string literals.
set(code "// Generated from services/monitor/dashboard by embed_dashboard.cmake.\n")
string(APPEND code "#include \"services/monitor/dashboard_assets.h\"\n\nnamespace signpost::monitor {\n")
string(APPEND code "namespace {\nconst DashboardAsset kAssets[] = {\n")
foreach(entry "index.html|/|text/html; charset=utf-8"
              "dashboard.js|/dashboard.js|text/javascript; charset=utf-8"
              "dashboard.css|/dashboard.css|text/css; charset=utf-8")
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 file)
  list(GET parts 1 path)
  list(GET parts 2 type)
  file(READ "${DIR}/${file}" body)
  string(APPEND code "    {\"${path}\", \"${type}\", R\"signpost-asset(${body})signpost-asset\"},\n")
endforeach()
string(APPEND code "};\n}  // namespace\n\nstd::span<const DashboardAsset> DashboardAssets() { return kAssets; }\n\n}  // namespace signpost::monitor\n")
file(WRITE "${OUT}" "${code}")
