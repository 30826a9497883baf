# Redis scripts live as .lua files beside the C++ that runs them and are compiled in.
#
#   signpost_lua_scripts(<target> <name>.lua ...)
#
# For services/<dir>/<name>.lua this generates <build>/generated/services/<dir>/<name>.lua.h,
# included as "services/<dir>/<name>.lua.h", defining
#   namespace signpost::<dir>::lua { inline constexpr std::string_view k<Name> = "..."; }
# where <Name> is <name> in CamelCase (record_match.lua -> kRecordMatch). The namespace carries
# the folder so that two services' scripts of one name never meet.
function(signpost_lua_scripts target)
  foreach(script IN LISTS ARGN)
    get_filename_component(source ${script} ABSOLUTE)
    file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${source})
    set(header ${PROJECT_BINARY_DIR}/generated/${relative}.h)
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${CMAKE_COMMAND} -DSOURCE=${source} -DRELATIVE=${relative} -DOUT=${header}
              -P ${PROJECT_SOURCE_DIR}/cmake/embed_lua.cmake
      DEPENDS ${source} ${PROJECT_SOURCE_DIR}/cmake/embed_lua.cmake
      COMMENT "embedding ${relative}")
    target_sources(${target} PRIVATE ${header})
  endforeach()
  target_include_directories(${target} PUBLIC ${PROJECT_BINARY_DIR}/generated)
endfunction()
