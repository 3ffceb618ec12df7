# Install layout (FHS) and the Debian package (`make package`: CPack DEB). The operator edits
# /etc/dunghan/dunghan.conf; the shipped data (holiday schedules, message templates, the sample
# procedure catalogue) live in /usr/share/dunghan. docs/operations.md explains the layout.
set(DUNGHAN_DATADIR ${CMAKE_INSTALL_FULL_DATADIR}/dunghan)

# The installed config is the example with its data paths made absolute and without the
# development tokens, whose plain values are published in docs/api.md.
file(READ ${CMAKE_SOURCE_DIR}/config/dunghan.conf.example conf)
string(REPLACE "\"holidays/" "\"${DUNGHAN_DATADIR}/holidays/" conf "${conf}")
string(REPLACE "templates = \"templates\";" "templates = \"${DUNGHAN_DATADIR}/templates\";"
       conf "${conf}")
string(REPLACE "procedures_file = \"procedures/" "procedures_file = \"${DUNGHAN_DATADIR}/procedures/"
       conf "${conf}")
string(FIND "${conf}" "\ntokens = (" tokens_at)
string(FIND "${conf}" "\n);\n\n# Chat channels" tokens_end)
if(tokens_at LESS 0 OR tokens_end LESS tokens_at)
  message(FATAL_ERROR "install.cmake: cannot find the tokens list in config/dunghan.conf.example")
endif()
string(SUBSTRING "${conf}" 0 ${tokens_at} conf_head)
math(EXPR tokens_end "${tokens_end} + 3")
string(SUBSTRING "${conf}" ${tokens_end} -1 conf_tail)
set(conf "${conf_head}
# No token is configured: the API answers 401 until you add one (see above).
tokens = ( );
${conf_tail}")
file(WRITE ${CMAKE_BINARY_DIR}/dunghan.conf "${conf}")

configure_file(${CMAKE_SOURCE_DIR}/systemd/dunghan.service.in ${CMAKE_BINARY_DIR}/dunghan.service
               @ONLY)
install(TARGETS dunghand dunghanctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_BINARY_DIR}/dunghan.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/dunghan)
install(FILES config/dunghan.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY config/holidays config/procedures config/templates DESTINATION ${DUNGHAN_DATADIR})
install(FILES ${CMAKE_BINARY_DIR}/dunghan.service DESTINATION lib/systemd/system)
install(FILES systemd/dunghan.sysusers DESTINATION lib/sysusers.d RENAME dunghan.conf)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/changelog.gz
  COMMAND gzip -9n < ${CMAKE_SOURCE_DIR}/packaging/changelog > ${CMAKE_BINARY_DIR}/changelog.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages from their scdoc sources, when scdoc is there (make deps installs it).
find_program(SCDOC scdoc)
if(SCDOC)
  foreach(page dunghand.8 dunghanctl.1 dunghan.conf.5)
    string(REGEX MATCH "[0-9]$" section ${page})
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/${page}.gz
      COMMAND ${SCDOC} < ${CMAKE_SOURCE_DIR}/docs/${page}.scd | gzip -9n > ${CMAKE_BINARY_DIR}/${page}.gz
      DEPENDS ${CMAKE_SOURCE_DIR}/docs/${page}.scd VERBATIM)
    list(APPEND man_pages ${CMAKE_BINARY_DIR}/${page}.gz)
    install(FILES ${CMAKE_BINARY_DIR}/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${man_pages})
endif()

# The Debian package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dunghan)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "dunghan maintainers <dunghan@example.gov.vn>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "deadline tracking for documents, assignments and one-stop cases")
set(CPACK_PACKAGE_DESCRIPTION "dunghan tracks the incoming official documents of a Vietnamese
government office, the tasks they assign and the one-stop cases citizens
file; it computes every deadline in working time and warns officers and
heads by e-mail and chat before anything is overdue.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata, systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm ${CMAKE_SOURCE_DIR}/packaging/conffiles)
# Absolute destinations (/etc/dunghan) need DESTDIR staging; `make package` configures with
# CMAKE_INSTALL_PREFIX=/usr so that the paths written into the config are the installed ones.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)
