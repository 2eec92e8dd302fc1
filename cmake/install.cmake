# What `cmake --install` puts under the prefix: the soma CLI, libsoma.so and
# libsoma.a, soma.h, a pkg-config file and a CMake package (find_package(soma)
# gives soma::soma, the shared library, and soma::soma_static). Included by the
# top-level CMakeLists.txt after the targets are defined.
include(CMakePackageConfigHelpers)

set(SOMA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/soma)

install(TARGETS soma RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS soma_shared soma_static EXPORT somaTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/soma.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT somaTargets NAMESPACE soma:: DESTINATION ${SOMA_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/somaConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/somaConfig.cmake
                              INSTALL_DESTINATION ${SOMA_CMAKE_DIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/somaConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/somaConfig.cmake ${CMAKE_BINARY_DIR}/somaConfigVersion.cmake
        DESTINATION ${SOMA_CMAKE_DIR})

# soma.pc finds its prefix from its own place (${pcfiledir}), so that
# `cmake --install build --prefix DIR` needs no reconfigure.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SOMA_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SOMA_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH SOMA_PC_UP /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
  string(REGEX REPLACE "/$" "" SOMA_PC_UP "${SOMA_PC_UP}")
  set(SOMA_PC_PREFIX "\${pcfiledir}/${SOMA_PC_UP}")
  set(SOMA_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SOMA_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SOMA_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# What libsoma.a needs besides zlib, libpng and libjpeg (Requires.private): OpenMP,
# OpenBLAS, libm.
string(STRIP "${OpenMP_C_FLAGS} -lopenblas" SOMA_PC_LIBS_PRIVATE)
if(MATH_LIBRARY)
  string(APPEND SOMA_PC_LIBS_PRIVATE " -lm")
endif()
if(SOMA_HAVE_MPI)
  foreach(lib ${MPI_C_LIBRARIES})
    string(APPEND SOMA_PC_LIBS_PRIVATE " ${lib}")
  endforeach()
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/soma.pc.in ${CMAKE_BINARY_DIR}/soma.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/soma.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
