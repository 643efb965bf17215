// Where the tests find the source tree, their fixtures and the built foreshock binary.
//
// Force-included into every unit test and benchmark (tests/CMakeLists.txt). The values live in
// test_paths.cc, generated into the build directory, so that the compile command of every test
// source is the same in every checkout: a compiler cache (ccache, used by
// scripts/quickstart.sh) then shares their objects between clones, and only that one file is
// rebuilt. The macros keep their old spelling: use them as `std::string(FORESHOCK_TEST_DATA)`
// or `std::filesystem::path(FORESHOCK_SOURCE_DIR)`.
#pragma once

namespace foreshock::test_paths {
const char* sourceDir();  // the top of the source tree
const char* testData();   // tests/fixtures/data (real data, see its SOURCES.md)
const char* binary();     // the foreshock binary of this build
}  // namespace foreshock::test_paths

#define FORESHOCK_SOURCE_DIR (::foreshock::test_paths::sourceDir())
#define FORESHOCK_TEST_DATA (::foreshock::test_paths::testData())
#define FORESHOCK_BINARY (::foreshock::test_paths::binary())
