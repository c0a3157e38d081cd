# libquant-opt.so and `cmake --install`.
#
# The shared library is made of the objects of the project's static
# libraries (compiler, passes, dialect, ONNX frontend, runtimes, support) and
# the MLIR C-API archives linked by path (Debian ships no libMLIR-C.so, so
# embedders get the mlir* C functions from here); the rest of MLIR and LLVM
# comes from libMLIR.so / libLLVM.so through RUNPATH.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_qo_parts QOCompiler QOPasses QODialect QOOnnxFrontend qrt_calib qrt QOSupport)
set(_qo_objects)
foreach(t ${_qo_parts})
  list(APPEND _qo_objects $<TARGET_OBJECTS:${t}>)
endforeach()
add_library(quant-opt-lib SHARED ${_qo_objects})
add_dependencies(quant-opt-lib ${_qo_parts})
set_target_properties(quant-opt-lib PROPERTIES OUTPUT_NAME quant-opt LINKER_LANGUAGE CXX
                      VERSION ${QO_VERSION} SOVERSION 0
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
                      INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
# What the static parts link to, outside the project.
target_link_libraries(quant-opt-lib PRIVATE PkgConfig::QO_JSONC m)
if(TARGET PkgConfig::PROTOBUF_C)
  target_link_libraries(quant-opt-lib PRIVATE PkgConfig::PROTOBUF_C)
else()
  target_link_libraries(quant-opt-lib PRIVATE ${QO_PROTOBUF_C_LIB})
endif()
set(_capi_files)
foreach(l ${QO_CAPI_LIBS})
  list(APPEND _capi_files $<TARGET_FILE:${l}>)
endforeach()
# The core IR API whole (an embedder may call any of it); the others as needed.
target_link_libraries(quant-opt-lib PRIVATE -Wl,--whole-archive $<TARGET_FILE:MLIRCAPIIR> -Wl,--no-whole-archive
                      -Wl,--start-group ${_capi_files} -Wl,--end-group MLIR MLIRExecutionEngineShared LLVM)
target_include_directories(quant-opt-lib INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}> $<INSTALL_INTERFACE:${MLIR_INCLUDE_DIRS}>)

# Objects from --emit=obj need the model runtime: the allocator, memrefCopy
# and the kernels' ISA selection (the shared libraries embed it).
add_library(quant-opt-rt STATIC ${CMAKE_SOURCE_DIR}/runtime/memref.c ${CMAKE_SOURCE_DIR}/runtime/cpu.c)
set_target_properties(quant-opt-rt PROPERTIES ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

set_target_properties(quant-opt qo-run PROPERTIES INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
install(TARGETS quant-opt qo-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS quant-opt-lib quant-opt-rt EXPORT quant-opt-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/quant-opt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT quant-opt-targets NAMESPACE quant-opt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/quant-opt)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/quant-opt-config.cmake.in
  ${CMAKE_BINARY_DIR}/quant-opt-config.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/quant-opt)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/quant-opt-config-version.cmake
  VERSION ${QO_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/quant-opt-config.cmake ${CMAKE_BINARY_DIR}/quant-opt-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/quant-opt)
set(QO_PC_MLIR_INCLUDE ${MLIR_INCLUDE_DIRS})
list(GET QO_PC_MLIR_INCLUDE 0 QO_PC_MLIR_INCLUDE)
# The .pc file finds its prefix from its own place (--prefix at install time).
file(RELATIVE_PATH QO_PC_UP "/x/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/x")
configure_file(${CMAKE_SOURCE_DIR}/cmake/quant-opt.pc.in ${CMAKE_BINARY_DIR}/quant-opt.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/quant-opt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
