# cmake -DFILE=exe -DRUNPATH=path -P set_runpath.cmake: rewrites an ELF file's RUNPATH in place
# (the bundle's executables find their libraries in $ORIGIN/../lib, not in the build tree).
file(RPATH_SET FILE "${FILE}" NEW_RPATH "${RUNPATH}")
