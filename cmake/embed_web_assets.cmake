# A web page's files (HTML, JavaScript, CSS) built into a service's binary, so that it serves them
# with nothing to install or find at run time.
#
#   include(cmake/embed_web_assets.cmake)   # once, at the top (done in the root CMakeLists.txt)
#   signpost_web_assets(<target>
#     HEADER services/followup/app_assets.h  # declares TYPE and FUNCTION, included by the source
#     NAMESPACE signpost::followup
#     TYPE AppAsset                          # a struct of {const char* path, content_type, body}
#     FUNCTION AppAssets                     # std::span<const TYPE> FUNCTION()
#     DIR app                                # the files' folder, relative to the CMakeLists
#     ENTRIES "index.html|/app/|text/html|utf-8" "app.js|/app/app.js|text/javascript|utf-8" ...)
#
# Each entry is file|served path|media type[|charset]: "text/html|utf-8" is served as
# "text/html; charset=utf-8" (a ';' would split the entry, as CMake lists do). Files are text: a
# raw string literal cannot hold binary. This generates <build>/<FUNCTION>.cc and adds it to
# <target>; it is generated again when a file changes.
#
# Run as a script (cmake -P, by the function's build step) it writes that source: OUT, SOURCE_NAME
# (for its first line), HEADER, NAMESPACE, TYPE, FUNCTION, DIR and ENTRIES (joined by ',').

if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "," ";" entries "${ENTRIES}")
  set(code "// Generated from ${SOURCE_NAME} by cmake/embed_web_assets.cmake: edit those files.\n")
  string(APPEND code "#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\n")
  string(APPEND code "namespace {\nconst ${TYPE} kAssets[] = {\n")
  foreach(entry IN LISTS entries)
    string(REPLACE "|" ";" parts "${entry}")
    list(LENGTH parts count)
    if(count LESS 3 OR count GREATER 4)
      message(FATAL_ERROR "web asset entry '${entry}' is not file|path|type[|charset]")
    endif()
    list(GET parts 0 file)
    list(GET parts 1 path)
    list(GET parts 2 type)
    if(count EQUAL 4)
      list(GET parts 3 charset)
      string(APPEND type "; charset=${charset}")
    endif()
    file(READ "${DIR}/${file}" body)
    string(FIND "${body}" ")signpost-asset\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${DIR}/${file} holds the literal's end marker")
    endif()
    string(APPEND code
           "    {\"${path}\", \"${type}\", R\"signpost-asset(${body})signpost-asset\"},\n")
  endforeach()
  string(APPEND code "};\n}  // namespace\n\n")
  string(APPEND code "std::span<const ${TYPE}> ${FUNCTION}() { return kAssets; }\n\n")
  string(APPEND code "}  // namespace ${NAMESPACE}\n")
  file(WRITE "${OUT}.tmp" "${code}")
  # Rewrite only on change so that what includes it is not rebuilt for nothing.
  file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
  file(REMOVE "${OUT}.tmp")
  return()
endif()

set(SIGNPOST_EMBED_WEB_ASSETS_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(signpost_web_assets target)
  cmake_parse_arguments(ARG "" "HEADER;NAMESPACE;TYPE;FUNCTION;DIR" "ENTRIES" ${ARGN})
  foreach(required HEADER NAMESPACE TYPE FUNCTION DIR ENTRIES)
    if(NOT ARG_${required})
      message(FATAL_ERROR "signpost_web_assets(${target}): ${required} is missing")
    endif()
  endforeach()
  get_filename_component(dir ${ARG_DIR} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  file(RELATIVE_PATH source_name ${PROJECT_SOURCE_DIR} ${dir})
  set(files)
  foreach(entry IN LISTS ARG_ENTRIES)
    if(entry MATCHES ",")
      message(FATAL_ERROR "signpost_web_assets(${target}): '${entry}' holds a ','")
    endif()
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 file)
    list(APPEND files ${dir}/${file})
  endforeach()
  string(REPLACE ";" "," entries "${ARG_ENTRIES}")
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${ARG_FUNCTION}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSOURCE_NAME=${source_name} -DHEADER=${ARG_HEADER} -DNAMESPACE=${ARG_NAMESPACE}
            -DTYPE=${ARG_TYPE} -DFUNCTION=${ARG_FUNCTION} -DDIR=${dir} -DENTRIES=${entries}
            -P ${SIGNPOST_EMBED_WEB_ASSETS_SCRIPT}
    DEPENDS ${SIGNPOST_EMBED_WEB_ASSETS_SCRIPT} ${files}
    COMMENT "embedding ${ARG_DIR} as ${ARG_NAMESPACE}::${ARG_FUNCTION}()"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
