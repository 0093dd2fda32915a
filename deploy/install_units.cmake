# Run by `cmake --install` (deploy/CMakeLists.txt): writes each
# GEMMA3N_UNIT_SOURCE_DIR/NAME.service.in to GEMMA3N_UNIT_DEST_DIR/NAME.service
# with @GEMMA3N_BINDIR@ replaced by the installation's bin directory.
foreach(unit IN LISTS GEMMA3N_UNITS)
  set(dest "${GEMMA3N_UNIT_DEST_DIR}/${unit}.service")
  message(STATUS "Installing: ${dest}")
  configure_file("${GEMMA3N_UNIT_SOURCE_DIR}/${unit}.service.in" "${dest}" @ONLY)
endforeach()
